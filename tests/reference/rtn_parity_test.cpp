// RTN fake quantization of the tiny models against transformers running the same
// quantize-dequantize from the Python reference (scripts/reference/gen_quant_rtn.py).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>
#include <utility>

#include "slmq/core/dtype.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/quant_method.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// Tolerances on max |Δlogit| (logits of magnitude ~1-4).
// Weight-only fp32: the dequantized weights are bit-identical (QuantizerReference), so what is
// left is the model's own fp32 difference to transformers (ModelParity bound 1e-4).
constexpr double kFp32WeightOnly = 1e-4;
// With activation quantization the ~1e-6 input differences can move a value across a rounding
// boundary, changing one code by one step (Δ = max|x|/127 at 8 bits, /7 at 4 bits) in one token;
// that perturbs the logits of that token by ~1e-3 at 8 bits and ~1e-2 at 4 bits (measured maxima
// are printed). Bounds: 2e-3 for 8-bit, 5e-2 for 4-bit activations.
constexpr double kFp32Act8 = 2e-3;
constexpr double kFp32Act4 = 5e-2;
// bf16 weight-only: ModelParity's bf16 bound (three bf16 ulps at |logit| 2-4); measured
// 0.027-0.035.
constexpr double kBf16WeightOnly = 0.05;
// bf16 with 8-bit activations: the inputs of each linear differ by bf16 ulps (~0.4% relative),
// comparable to one activation step (~0.8% of the token's max), so codes flip in many tokens;
// measured 0.063-0.094 (w4a8, group 32). Bound: 0.15.
constexpr double kBf16Act = 0.15;

double tolerance(const std::string& dtype, const QuantConfig& c) {
  if (dtype == "bfloat16") return c.scheme.activation ? kBf16Act : kBf16WeightOnly;
  if (!c.scheme.activation) return kFp32WeightOnly;
  return c.scheme.activation->bits >= 8 ? kFp32Act8 : kFp32Act4;
}

QuantConfig config_from_json(const nlohmann::json& quant) {
  return test::parse_quant_yaml(quant.dump());
}

TEST(RtnParity, FakeQuantLogitsMatchTransformersOnTheSameQuantizedWeights) {
  const auto dir = test::reference_dir("quant_rtn");
  const auto cases = read_json_file(dir / "cases.json");
  int checked = 0;
  for (const auto& name : cases["models"]) {
    const auto folder = dir / name.get<std::string>();
    auto ref = SafetensorsFile::open(folder / "reference.safetensors");
    const at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
    for (const auto& [scheme, spec] : cases["schemes"].items()) {
      SCOPED_TRACE(name.get<std::string>() + " " + scheme);
      const std::string dtype = spec["dtype"];
      const QuantConfig config = config_from_json(spec["quant"]);
      auto model =
          load_model(folder, {parse_compute_dtype(dtype, "dtype"), c10::Device(c10::kCPU)});
      const at::Tensor fp_logits = model->forward(ids, mask);
      QuantReport report = make_quant_method("rtn")->run(*model, config, nullptr);
      const int64_t expected_linears =
          7 * model->config().num_layers + (config.quantize_lm_head ? 1 : 0);
      EXPECT_EQ(static_cast<int64_t>(report.layers.size()), expected_linears);
      const at::Tensor want = ref.load("logits_" + scheme);
      const double diff = test::max_abs_diff_masked(model->forward(ids, mask), want, mask);
      const double effect = test::max_abs_diff_masked(fp_logits, want, mask);
      const double tol = tolerance(dtype, config);
      std::cout << fmt::format(
          "[rtn] {:<22} {:<26} max|dlogit| vs reference {:.3g} (tol {:.2g}); vs FP {:.3g}\n",
          name.get<std::string>(), scheme, diff, tol, effect);
      EXPECT_LE(diff, tol);
      // The comparison can only catch a broken fake-quant path if quantization moves the logits
      // well beyond the tolerance.
      EXPECT_GT(effect, 5 * tol);
      ++checked;
    }
  }
  // Every model x scheme the generator wrote was checked; the generator covers the seven families
  // (llama, llama3 scaling, qwen2, mistral, qwen3, gemma3, phi3).
  EXPECT_EQ(checked, static_cast<int>(cases["models"].size() * cases["schemes"].size()));
  EXPECT_GE(cases["models"].size(), 7u);
}

// Tied lm_head quantized: the embeddings stay full precision and the storage is the codes.
TEST(RtnParity, QuantizedTiedLmHeadLeavesEmbeddingsAndCountsTrueStorage) {
  const auto folder = test::reference_dir("quant_rtn") / "llama_tied";
  auto model = load_model(folder, {});
  QuantConfig c = config_from_json({{"method", "rtn"},
                                    {"scheme", "w4a16"},
                                    {"weight", {{"group_size", 32}}},
                                    {"quantize_lm_head", true}});
  QuantReport r = make_quant_method("rtn")->run(*model, c, nullptr);
  for (const auto& [name, linear] : std::as_const(*model).linears()) {
    SCOPED_TRACE(name);
    ASSERT_EQ(linear->kind(), "fake_quant");
    const auto& q = dynamic_cast<const FakeQuantLinear&>(*linear);
    EXPECT_EQ(q.weight().codes.scalar_type(), at::kChar);
    // int4 codes packed 8 per int32 word (the widths 64 and 160 fill whole words) + an fp32
    // scale per 32 weights; symmetric: no zero points.
    const int64_t n = linear->in_features() * linear->out_features();
    EXPECT_EQ(linear->bytes(), n / 2 + n / 32 * 4);
  }
  // From fp32 (4 bytes a weight) to 1/2 + 1/8 bytes a weight.
  EXPECT_EQ(r.linear_bytes_after * 32, r.linear_bytes_before * 5);
  // The model's totals: same parameters as before; bytes = fp32 embedding and norms + the
  // quantized linears, the head now stored apart from the embedding.
  auto fp = load_model(folder, {});
  const ModelSummary before = fp->summary(), after = model->summary();
  EXPECT_EQ(after.parameters, before.parameters);
  EXPECT_EQ(after.bytes, before.bytes -
                             (r.linear_bytes_before -
                              4 * model->config().vocab_size * model->config().hidden_size) +
                             r.linear_bytes_after);
  EXPECT_EQ(after.linears_by_kind.at("fake_quant"), 22);
}

}  // namespace
}  // namespace slmq
