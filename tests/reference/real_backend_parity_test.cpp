// Every real CPU backend against its fake-quant twin (the accuracy path, whose dequantize is the
// oracle), built from the same packed weight, per scheme and flavour, in the GEMV (decode) and
// tiled-GEMM (prefill) regimes; and the int8 activation quantizer against quantize_activation.
//
// Tolerance, per scheme, and why:
// - W8A16 / W4A16: both sides multiply the same fp32 activations by the same dequantized weights
//   (bit-identical: dequantize_rows_is_exact); only the order and grouping of the fp32 sums
//   differ. Each side's error against exact arithmetic is at most γ_K Σ|x·ŵ| (γ_K = K·u/(1−K·u),
//   u = 2^-24), a few extra roundings for the per-group scale and zero-point terms: allowed
//   |real − fake| <= 3·γ_K Σ|x·ŵ|.
// - W8A8 / W4A8: the activation codes and scales are bit-identical (asserted below), so x̂ is the
//   same on both sides; the real GEMV sums integers exactly and rounds only the per-group fp32
//   epilogue; the fake side rounds its fp32 GEMM: the same bound.
// Observed errors are two to three orders of magnitude below these bounds; a wrong group, code or
// scale produces an error of the order of one term |x·ŵ|, far above them.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <tuple>

#include "slmq/core/error.h"
#include "slmq/quant/backends/cpu_int_linear.h"
#include "slmq/quant/backends/int8_activation.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {
namespace {

struct Case {
  std::string scheme;
  QuantFlavour flavour;
  int64_t group_size;  // 0: the preset's
  int64_t in, out;
};

std::string name_of(const Case& c) {
  return c.scheme + "_" + to_string(c.flavour) + "_g" + std::to_string(c.group_size) + "_" +
         std::to_string(c.in) + "x" + std::to_string(c.out);
}

FakeQuantLinear make_fake(const Case& c, bool with_bias) {
  QuantScheme scheme = scheme_preset(c.scheme, c.flavour, "test");
  if (c.group_size > 0) {
    scheme.weight.granularity = Granularity::kPerGroup;
    scheme.weight.group_size = c.group_size;
  }
  at::Tensor w = at::randn({c.out, c.in}) * 0.05;
  w[0][0] = -1.0;  // an outlier row: the most negative code (-2^(b-1)) occurs
  at::Tensor bias = with_bias ? at::randn({c.out}) : at::Tensor();
  return FakeQuantLinear(quantize_weight(w, scheme.weight), bias, at::kFloat, scheme.activation);
}

class RealBackendParity : public ::testing::TestWithParam<Case> {};

TEST_P(RealBackendParity, AgreesWithFakeQuantWithinTheSumBound) {
  const Case c = GetParam();
  at::manual_seed(42);
  FakeQuantLinear fake = make_fake(c, /*with_bias=*/true);
  ASSERT_EQ(CpuIntLinear::unsupported_reason(fake, at::kFloat), std::nullopt);
  CpuIntLinear real(fake, at::kFloat);
  EXPECT_EQ(real.kind(), "cpu_w" + std::to_string(fake.packed_weight().spec.bits) + "a" +
                             (fake.activation() ? "8" : "16"));
  for (int64_t m : {1, 4, 8, 9, 70}) {  // GEMV rows up to kGemvMaxRows, tiled GEMM beyond
    at::Tensor x = at::randn({m, c.in});
    x[0][3] = 12.0;  // an activation outlier, as in real models
    at::Tensor got = real.forward(x.view({1, m, c.in})).view({m, c.out});
    at::Tensor want = fake.forward(x);
    at::Tensor xq = fake.activation() ? fake_quantize_activation(x, *fake.activation()) : x;
    const double k = static_cast<double>(c.in), u = 1.0 / (1 << 24);
    at::Tensor bound =
        at::matmul(xq.abs(), fake.dequantized_weight().abs().t()) * (3 * k * u / (1 - k * u)) +
        1e-6 * fake.bias().abs();
    const double excess = ((got - want).abs() - bound).max().item<double>();
    const double max_diff = (got - want).abs().max().item<double>();
    EXPECT_LE(excess, 0.0) << name_of(c) << " m=" << m << " max |Δ| = " << max_diff;
    // Recorded for the notes: how far inside its bound each case lands.
    RecordProperty("max_abs_diff_m" + std::to_string(m), std::to_string(max_diff));
    RecordProperty("max_diff_over_bound_m" + std::to_string(m),
                   std::to_string(((got - want).abs() / bound).max().item<double>()));
  }
  EXPECT_EQ(real.parameters(), fake.parameters());
}

INSTANTIATE_TEST_SUITE_P(
    Schemes, RealBackendParity,
    ::testing::Values(Case{"w8a16", QuantFlavour::kCompressedTensors, 0, 576, 96},
                      Case{"w8a16", QuantFlavour::kGptq, 0, 192, 64},  // unsigned 8-bit codes
                      Case{"w8a16_asym", QuantFlavour::kCompressedTensors, 64, 192, 40},
                      Case{"w4a16", QuantFlavour::kCompressedTensors, 64, 576, 96},
                      Case{"w4a16", QuantFlavour::kCompressedTensors, 32, 96, 33},
                      Case{"w4a16_asym", QuantFlavour::kGptq, 128, 256, 48},
                      Case{"w4a16", QuantFlavour::kAwq, 0, 128, 24},  // per channel
                      Case{"w8a8", QuantFlavour::kCompressedTensors, 0, 576, 96},
                      Case{"w8a8", QuantFlavour::kLlmc, 0, 192, 64},
                      Case{"w8a8", QuantFlavour::kQuarot, 0, 192, 64},
                      Case{"w8a8", QuantFlavour::kGptq, 0, 192, 64},
                      Case{"w4a8", QuantFlavour::kCompressedTensors, 64, 576, 96},
                      Case{"w4a8", QuantFlavour::kQuarot, 32, 128, 40}),
    [](const ::testing::TestParamInfo<Case>& info) { return name_of(info.param); });

TEST(RealBackendParity, StoresTheFakeBackendsCodesWithoutACopy) {
  at::manual_seed(1);
  FakeQuantLinear fake4 =
      make_fake({"w4a16", QuantFlavour::kCompressedTensors, 64, 128, 16}, false);
  CpuIntLinear real4(fake4, at::kFloat);
  EXPECT_TRUE(real4.stored_tensors()[0].is_same(fake4.packed_weight().data));
  // Symmetric: codes and scales only, as the fake backend stores them.
  EXPECT_EQ(real4.bytes(), fake4.bytes());
  FakeQuantLinear fake8 = make_fake({"w8a16", QuantFlavour::kCompressedTensors, 0, 128, 16}, false);
  CpuIntLinear real8(fake8, at::kFloat);
  EXPECT_TRUE(real8.stored_tensors()[0].is_same(fake8.packed_weight().data));
  EXPECT_EQ(real8.bytes(), fake8.bytes());
  // W8A8 stores codes of -128 as -127 (for pmaddubsw) in a copy that replaces the twin's, plus
  // the positions to correct: a few bytes per row.
  FakeQuantLinear fake_a8 =
      make_fake({"w8a8", QuantFlavour::kCompressedTensors, 0, 128, 16}, false);
  ASSERT_TRUE(fake_a8.packed_weight().data.eq(-128).any().item<bool>());  // the outlier row
  CpuIntLinear real_a8(fake_a8, at::kFloat);
  EXPECT_FALSE(real_a8.stored_tensors()[0].eq(-128).any().item<bool>());
  EXPECT_GT(real_a8.bytes(), fake_a8.bytes());
  EXPECT_LE(real_a8.bytes(), fake_a8.bytes() + 8 * 17);
}

TEST(RealBackendParity, ExplainsWhatItCannotRun) {
  at::manual_seed(2);
  FakeQuantLinear bf16 = make_fake({"w8a16", QuantFlavour::kCompressedTensors, 0, 64, 8}, false);
  EXPECT_NE(CpuIntLinear::unsupported_reason(bf16, at::kBFloat16), std::nullopt);
  FakeQuantLinear ragged = make_fake({"w4a16", QuantFlavour::kGptq, 48, 96, 8}, false);
  EXPECT_NE(CpuIntLinear::unsupported_reason(ragged, at::kFloat), std::nullopt);
  FakeQuantLinear three = make_fake({"w3a16", QuantFlavour::kCompressedTensors, 32, 64, 8}, false);
  EXPECT_NE(CpuIntLinear::unsupported_reason(three, at::kFloat), std::nullopt);
  FakeQuantLinear omni = make_fake({"w8a8", QuantFlavour::kOmniquant, 0, 64, 8}, false);
  EXPECT_NE(CpuIntLinear::unsupported_reason(omni, at::kFloat), std::nullopt);
  EXPECT_THROW(CpuIntLinear(omni, at::kFloat), UnsupportedError);
}

// The kernel-side quantizer gives the integers and scales of quantize_activation bit for bit.
class Int8ActivationCodes : public ::testing::TestWithParam<std::tuple<QuantFlavour, bool>> {};

TEST_P(Int8ActivationCodes, AreThoseOfQuantizeActivation) {
  const auto [flavour, per_tensor] = GetParam();
  QuantSpec spec = *scheme_preset("w8a8", flavour, "test").activation;
  if (per_tensor) spec.granularity = Granularity::kPerTensor;
  Int8ActivationQuantizer quantizer(spec, std::nullopt);
  at::manual_seed(5);
  at::Tensor x = at::randn({6, 128}) * 3;
  x[1] = at::rand({128});  // all non-negative: GPTQ's min = 0 branch
  x[2].zero_();            // an all-zero row: each flavour's zero-range rule
  x[3][7] = 50;
  auto got = quantizer.quantize(x, 32);
  QuantizedActivation want = quantize_activation(x, spec);
  at::Tensor want_codes = (want.codes - want.params.zero).to(at::kChar);
  EXPECT_TRUE(at::equal(got.codes, want_codes)) << to_string(flavour);
  EXPECT_TRUE(at::equal(got.scales, want.params.scale.expand({6, 1}).reshape({6})))
      << to_string(flavour);
}

INSTANTIATE_TEST_SUITE_P(
    Flavours, Int8ActivationCodes,
    ::testing::Combine(::testing::Values(QuantFlavour::kCompressedTensors, QuantFlavour::kGptq,
                                         QuantFlavour::kQuarot, QuantFlavour::kLlmc,
                                         QuantFlavour::kAwq),
                       ::testing::Bool()));

}  // namespace
}  // namespace slmq
