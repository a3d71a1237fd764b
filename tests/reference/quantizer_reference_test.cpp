// Every quantizer flavour × bit width × symmetry × granularity against the Python reference written
// from specs/quant_methods.md §1 (scripts/reference/gen_quantizers.py, _quant_ref.py). Codes,
// scales, zero points and dequantized values must be bit-identical: both sides do the same fp32
// operations on the same inputs, and a single differing code is a formula difference, not noise.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/core/error.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/quant/quantizer.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

struct Case {
  nlohmann::json json;
  QuantSpec spec;
  bool weight = true;
  bool is_static = false;
};

Case make_case(const nlohmann::json& c) {
  Case out;
  out.json = c;
  out.weight = c["kind"] == "weight";
  QuantSpec& s = out.spec;
  s.bits = c["bits"];
  s.symmetric = c["symmetric"];
  s.flavour = parse_flavour(c["flavour"].get<std::string>(), "flavour");
  s.clip_ratio = c["clip_ratio"];
  const std::string g = c["granularity"].get<std::string>();
  out.is_static = g == "static";
  s.granularity = out.is_static ? Granularity::kPerTensor : parse_granularity(g, "granularity");
  s.group_size = c["group_size"];
  s.dynamic = !out.is_static;
  return out;
}

std::string label(const nlohmann::json& c) {
  return fmt::format(
      "case {} {} {} int{} {} {}{}", c["index"].get<int>(), c["kind"].get<std::string>(),
      c["flavour"].get<std::string>(), c["bits"].get<int>(), c["symmetric"] ? "sym" : "asym",
      c["granularity"].get<std::string>(),
      c["group_size"].get<int>() ? "(" + std::to_string(c["group_size"].get<int>()) + ")" : "");
}

class QuantizerReference : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::reference_dir("quantizers");
    file_ =
        std::make_unique<SafetensorsFile>(SafetensorsFile::open(dir_ / "reference.safetensors"));
    cases_ = read_json_file(dir_ / "cases.json");
  }
  at::Tensor ref(const std::string& name) const { return file_->load(name); }

  std::filesystem::path dir_;
  std::unique_ptr<SafetensorsFile> file_;
  nlohmann::json cases_;
};

// True when a and b are equal element for element (bitwise for fp32 apart from the sign of 0).
bool same(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::equal(a.contiguous(), b.contiguous());
}

TEST_F(QuantizerReference, CodesScalesZerosAndDequantizedValuesAreBitIdentical) {
  const at::Tensor w = ref("weight"), x = ref("activation");
  int checked = 0, unsupported = 0;
  for (const auto& json : cases_) {
    Case c = make_case(json);
    const std::string name = "case" + std::to_string(json["index"].get<int>());
    SCOPED_TRACE(label(json));
    if (json["expect"] == "unsupported") {
      ASSERT_TRUE(c.weight);
      EXPECT_FALSE(allows_ragged_groups(c.spec, QuantRole::kWeight));
      EXPECT_THROW(quantize_weight(w, c.spec), UnsupportedError);
      ++unsupported;
      continue;
    }
    at::Tensor codes, scale, zero, deq;
    if (c.weight) {
      QuantizedWeight q = quantize_weight(w, c.spec);
      EXPECT_EQ(q.codes.scalar_type(), code_range(c.spec).min < 0 ? at::kChar : at::kByte);
      codes = q.codes, scale = q.scales, zero = q.zeros, deq = dequantize(q);
    } else {
      QuantParams fixed;
      if (c.is_static) fixed = calibrate_static(json["static_min"], json["static_max"], c.spec);
      QuantizedActivation q = quantize_activation(x, c.spec, c.is_static ? &fixed : nullptr);
      codes = q.codes, scale = q.params.scale, zero = q.params.zero;
      deq = fake_quantize_activation(x, c.spec, c.is_static ? &fixed : nullptr)
                .reshape({-1, x.size(-1)});
    }
    const CodeRange r = code_range(c.spec);
    EXPECT_GE(codes.min().item<int64_t>(), r.min);
    EXPECT_LE(codes.max().item<int64_t>(), r.max);
    EXPECT_TRUE(same(codes.to(at::kShort), ref(name + ".codes"))) << "codes differ";
    EXPECT_TRUE(same(scale.to(at::kFloat), ref(name + ".scale"))) << "scales differ";
    EXPECT_TRUE(same(zero.to(at::kInt), ref(name + ".zero"))) << "zero points differ";
    EXPECT_TRUE(same(deq, ref(name + ".dequant"))) << "dequantized values differ";
    ++checked;
  }
  std::cout << "[quantizers] " << checked << " cases bit-identical, " << unsupported
            << " ragged-group cases rejected as the reference does\n";
  EXPECT_GT(checked, 500);
}

// The activation quantizer keeps the input's shape and dtype (bf16 inputs are quantized in fp32).
// Bound: half a step (max|x| ~ 4 over 127 levels: 0.016) plus one bf16 ulp at 4 (0.016), with
// margin.
TEST(Quantizer, FakeQuantActivationKeepsShapeAndDtype) {
  QuantSpec s;
  s.granularity = Granularity::kPerToken;
  at::Tensor x = at::randn({2, 3, 64}).to(at::kBFloat16);
  at::Tensor y = fake_quantize_activation(x, s);
  EXPECT_EQ(y.sizes(), x.sizes());
  EXPECT_EQ(y.scalar_type(), at::kBFloat16);
  EXPECT_LT((y.to(at::kFloat) - x.to(at::kFloat)).abs().max().item<float>(), 0.05f);
}

TEST(Quantizer, StaticActivationWithoutCalibrationIsAnInternalError) {
  QuantSpec s;
  s.granularity = Granularity::kPerTensor;
  s.dynamic = false;
  EXPECT_THROW(fake_quantize_activation(at::randn({4, 8}), s), InternalError);
}

}  // namespace
}  // namespace slmq
