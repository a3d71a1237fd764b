// slmquant's compressed-tensors checkpoints against transformers + the compressed-tensors package
// loading the same folders (scripts/reference/gen_compressed_tensors_load.py), and against the
// in-memory quantized model they were written from.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/export/compressed_tensors_scheme.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/quant_method.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// Tolerances on max |Δlogit| (logits of magnitude ~1-4), fp32, as RtnParity's:
// weight-only: the dequantized weights are bit-identical to transformers' (checked below), so
// what is left is the model's own fp32 difference to transformers (ModelParity bound 1e-4).
constexpr double kWeightOnly = 1e-4;
// 8-bit dynamic activations: a ~1e-6 input difference can move one activation across a rounding
// boundary (one step = max|x|/127.5), perturbing that token's logits by ~1e-3. 4-bit weights
// with 8-bit activations: the same.
constexpr double kAct8 = 2e-3;

// The quant block quantization.json records, as a run config would write it.
QuantConfig recorded_config(const std::filesystem::path& folder) {
  nlohmann::json c = read_json_file(folder / "quantization.json")["config"];
  c["weight"].erase("dynamic");
  if (c["activation"].is_null()) {
    c["activation"] = "none";
  }
  return test::parse_quant_yaml(c.dump());
}

TEST(CompressedTensorsLoad, TransformersAndSlmquantLoadTheSameWeightsAndLogits) {
  const auto dir = test::reference_dir("compressed_tensors_load");
  const auto cases = read_json_file(dir / "cases.json");
  auto inputs = SafetensorsFile::open(dir / "inputs.safetensors");
  const at::Tensor ids = inputs.load("input_ids"), mask = inputs.load("attention_mask");
  int checked = 0;
  for (const auto& model_name : cases["models"]) {
    const std::string name = model_name;
    const auto fp_folder = dir / name / "fp";
    const at::Tensor fp_logits = load_model(fp_folder, {})->forward(ids, mask);
    for (const auto& [scheme, spec] : cases["schemes"].items()) {
      SCOPED_TRACE(name + " " + scheme);
      const auto folder = dir / name / scheme;
      auto ref = SafetensorsFile::open(dir / name / (scheme + ".safetensors"));
      auto loaded = load_any_model(folder, {});

      // Load-back: bitwise the model that was saved.
      auto in_memory = load_model(fp_folder, {});
      const QuantConfig config = recorded_config(folder);
      make_quant_method("rtn")->run(*in_memory, config, nullptr);
      const at::Tensor logits = loaded->forward(ids, mask);
      EXPECT_TRUE(at::equal(logits, in_memory->forward(ids, mask)));

      // Dequantized weights: exactly what compressed-tensors decompressed.
      int weights = 0;
      for (const auto& [linear_name, linear] : std::as_const(*loaded).linears()) {
        if (linear->kind() != "fake_quant") continue;
        const auto& fq = dynamic_cast<const FakeQuantLinear&>(*linear);
        ASSERT_NE(ref.find("weight." + linear_name), nullptr) << linear_name;
        EXPECT_TRUE(at::equal(fq.dequantized_weight(), ref.load("weight." + linear_name)))
            << linear_name;
        ++weights;
      }
      const int64_t expected = 7 * loaded->config().num_layers + (config.quantize_lm_head ? 1 : 0);
      EXPECT_EQ(weights, expected);

      const at::Tensor want = ref.load("logits");
      const double tol = config.scheme.activation ? kAct8 : kWeightOnly;
      const double diff = test::max_abs_diff_masked(logits, want, mask);
      const double effect = test::max_abs_diff_masked(fp_logits, want, mask);
      std::cout << fmt::format(
          "[compressed-tensors] {:<16} {:<20} max|dlogit| vs transformers {:.3g} (tol {:.2g}); "
          "vs FP {:.3g}\n",
          name, scheme, diff, tol, effect);
      EXPECT_LE(diff, tol);
      EXPECT_GT(effect, 5 * tol);  // the comparison could catch a wrong load
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3 * 7);
}

// The packer against compressed-tensors' pack_to_int32 (dense, values straddling words).
TEST(CompressedTensorsLoad, PackingMatchesCompressedTensorsForEveryBitWidth) {
  auto ref =
      SafetensorsFile::open(test::reference_dir("compressed_tensors_load") / "packing.safetensors");
  for (int bits = 2; bits <= 8; ++bits) {
    SCOPED_TRACE(bits);
    const at::Tensor codes = ref.load(fmt::format("codes_{}", bits));
    const at::Tensor packed = ct::pack_codes(codes, bits);
    EXPECT_TRUE(at::equal(packed, ref.load(fmt::format("packed_{}", bits))));
    EXPECT_TRUE(
        at::equal(unpack_int32(packed, bits, codes.size(1)).to(at::kInt) - (1 << (bits - 1)),
                  codes.to(at::kInt)));
    QuantSpec spec;
    spec.bits = bits;
    spec.granularity = Granularity::kPerGroup;
    const at::Tensor zp = ct::pack_zero_points(codes, spec);
    EXPECT_TRUE(at::equal(zp, ref.load(fmt::format("packed_dim0_{}", bits))));
    EXPECT_TRUE(at::equal(ct::unpack_zero_points(zp, spec, codes.size(0), codes.size(1)),
                          codes.to(at::kInt)));
  }
}

}  // namespace
}  // namespace slmq
