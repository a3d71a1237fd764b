// The torch-free integer kernels (src/kernels) against a float64 reference computed from the same
// codes, scales and zero points with torch, on both the AVX2 and the portable path.
//
// Tolerances: a float kernel sums K fp32 products in some order; the reference is float64. The
// standard bound for a K-term fp32 dot product is |error| <= γ_K Σ|x·ŵ|, γ_K = K·u/(1 − K·u),
// u = 2^-24; each output is also a sum over groups of scale × partial sum and a zero-point term,
// which adds a few more roundings, so the tests allow 2·γ_K Σ|x·ŵ| (+1e-30). A wrong code, group,
// scale or zero shifts an output by about |x|·|ŵ| of one term or more, far outside it. The int8
// kernels' dot products are exact integers; only the per-group float epilogue rounds (same bound).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <tuple>

#include "slmq/kernels/cpu_qlinear.h"

namespace slmq {
namespace {

struct RandomWeight {
  int bits;
  int64_t rows, cols, group;
  bool with_zeros;
  at::Tensor codes;   // int8 [rows, cols] (4-bit: values 0..15)
  at::Tensor packed;  // what the kernel reads
  at::Tensor scales, zeros;

  kernels::QuantWeightView view() const {
    kernels::QuantWeightView v;
    v.bits = bits;
    v.rows = rows;
    v.cols = cols;
    v.group = group;
    v.codes = packed.data_ptr();
    v.scales = scales.data_ptr<float>();
    v.zeros = with_zeros ? zeros.data_ptr<float>() : nullptr;
    v.zero = with_zeros ? 0.0f : (bits == 4 ? 8.0f : 0.0f);
    return v;
  }
  // [rows, cols] float64 (code − zero)·scale.
  at::Tensor dequantized() const {
    at::Tensor z = with_zeros ? zeros : at::full_like(scales, bits == 4 ? 8.0 : 0.0);
    at::Tensor c = codes.to(at::kDouble).view({rows, cols / group, group});
    return ((c - z.to(at::kDouble).unsqueeze(2)) * scales.to(at::kDouble).unsqueeze(2))
        .view({rows, cols});
  }
};

RandomWeight make_weight(int bits, int64_t rows, int64_t cols, int64_t group, bool with_zeros,
                         uint64_t seed) {
  at::manual_seed(seed);
  RandomWeight w{bits, rows, cols, group, with_zeros, {}, {}, {}, {}};
  if (bits == 8) {
    w.codes = at::randint(-128, 128, {rows, cols}, at::kChar);
    w.packed = w.codes;
  } else {
    w.codes = at::randint(0, 16, {rows, cols}, at::kChar);
    at::Tensor u = w.codes.to(at::kByte).view({rows, cols / 2, 2});
    w.packed = u.select(2, 0).bitwise_or(u.select(2, 1).bitwise_left_shift(4)).contiguous();
  }
  w.scales = at::rand({rows, cols / group}) * 0.02 + 0.001;
  w.zeros = with_zeros ? at::randint(bits == 4 ? 0 : -20, bits == 4 ? 16 : 20, {rows, cols / group})
                             .to(at::kFloat)
                       : at::Tensor();
  return w;
}

void expect_within_bound(const at::Tensor& got, const at::Tensor& x64, const at::Tensor& w64,
                         const at::Tensor& bias, const std::string& what) {
  at::Tensor want = at::matmul(x64, w64.t());
  if (bias.defined()) want = want + bias.to(at::kDouble);
  const double k = static_cast<double>(w64.size(1));
  const double u = 1.0 / (1 << 24);
  at::Tensor bound = at::matmul(x64.abs(), w64.abs().t()) * (2 * k * u / (1 - k * u)) + 1e-30;
  at::Tensor excess = (got.to(at::kDouble) - want).abs() - bound;
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << what << ": max |Δ| " << (got.to(at::kDouble) - want).abs().max().item<double>();
}

class QLinearF32 : public ::testing::TestWithParam<std::tuple<int, int64_t, bool, bool>> {};

TEST_P(QLinearF32, MatchesFloat64Reference) {
  const auto [bits, group, with_zeros, portable] = GetParam();
  const int64_t rows = 37, cols = 192;
  RandomWeight w = make_weight(bits, rows, cols, group == 0 ? cols : group, with_zeros, 7);
  at::Tensor bias = at::randn({rows});
  kernels::force_portable(portable);
  for (int64_t m : {1, 3, 4, 6}) {
    at::Tensor x = at::randn({m, cols});
    at::Tensor y = at::empty({m, rows});
    kernels::linear_f32(w.view(), x.data_ptr<float>(), m, bias.data_ptr<float>(),
                        y.data_ptr<float>(), {});
    expect_within_bound(y, x.to(at::kDouble), w.dequantized(), bias, "f32 m=" + std::to_string(m));
  }
  kernels::force_portable(false);
}

INSTANTIATE_TEST_SUITE_P(Kernels, QLinearF32,
                         ::testing::Combine(::testing::Values(4, 8), ::testing::Values(0, 32, 64),
                                            ::testing::Bool(), ::testing::Bool()));

class QLinearI8 : public ::testing::TestWithParam<std::tuple<int, int64_t, bool, bool>> {};

TEST_P(QLinearI8, MatchesFloat64Reference) {
  const auto [bits, group_param, with_zeros, portable] = GetParam();
  const int64_t rows = 29, cols = 256, group = group_param == 0 ? cols : group_param;
  RandomWeight w = make_weight(bits, rows, cols, group, with_zeros, 11);
  kernels::force_portable(portable);
  for (int64_t m : {1, 2, 5}) {
    at::Tensor a = at::randint(-128, 128, {m, cols}, at::kChar);
    a[0][0] = -128;  // the code that would saturate pmaddubsw against a weight of -128
    at::Tensor sums = a.to(at::kInt).view({m, cols / group, group}).sum(2).to(at::kInt);
    at::Tensor scale = at::rand({m}) + 0.5;
    at::Tensor y = at::empty({m, rows});
    kernels::linear_i8(w.view(), a.data_ptr<int8_t>(), sums.data_ptr<int32_t>(),
                       scale.data_ptr<float>(), m, nullptr, y.data_ptr<float>(), {});
    at::Tensor x64 = a.to(at::kDouble) * scale.to(at::kDouble).unsqueeze(1);
    expect_within_bound(y, x64, w.dequantized(), {}, "i8 m=" + std::to_string(m));
  }
  kernels::force_portable(false);
}

INSTANTIATE_TEST_SUITE_P(Kernels, QLinearI8,
                         ::testing::Combine(::testing::Values(4, 8), ::testing::Values(0, 32, 128),
                                            ::testing::Bool(), ::testing::Bool()));

// 8-bit codes of -128 stored as -127 with their positions listed (the W8A8 layout for
// pmaddubsw): every kernel gives the result of the original codes.
TEST(QLinearKernels, CodesWithin127WithFixesActAsTheOriginalCodes) {
  RandomWeight w = make_weight(8, 23, 192, 64, false, 5);
  w.codes.select(1, 7).fill_(-128);  // every row has at least one
  w.codes[3][100] = -128;
  at::Tensor low = w.codes.eq(-128);
  at::Tensor stored = w.codes.masked_fill(low, -127).contiguous();
  at::Tensor where = low.nonzero();
  at::Tensor start =
      at::cat({at::zeros({1}, at::kLong), at::bincount(where.select(1, 0), {}, 23).cumsum(0)})
          .to(at::kInt);
  at::Tensor cols = where.select(1, 1).to(at::kInt).contiguous();
  kernels::QuantWeightView v = w.view();
  v.codes = stored.data_ptr();
  v.codes_within_127 = true;
  v.fix_row_start = start.data_ptr<int32_t>();
  v.fix_cols = cols.data_ptr<int32_t>();
  for (bool portable : {false, true}) {
    kernels::force_portable(portable);
    at::Tensor a = at::randint(-128, 128, {3, 192}, at::kChar);
    a[0][7] = -128;  // against a code of -128: the saturating case of a naive pmaddubsw
    at::Tensor sums = a.to(at::kInt).view({3, 3, 64}).sum(2).to(at::kInt);
    at::Tensor scale = at::rand({3}) + 0.5, y = at::empty({3, 23});
    kernels::linear_i8(v, a.data_ptr<int8_t>(), sums.data_ptr<int32_t>(), scale.data_ptr<float>(),
                       3, nullptr, y.data_ptr<float>(), {});
    at::Tensor x64 = a.to(at::kDouble) * scale.to(at::kDouble).unsqueeze(1);
    expect_within_bound(y, x64, w.dequantized(), {}, "i8 fixed");
    at::Tensor x = at::randn({2, 192}), yf = at::empty({2, 23});
    kernels::linear_f32(v, x.data_ptr<float>(), 2, nullptr, yf.data_ptr<float>(), {});
    expect_within_bound(yf, x.to(at::kDouble), w.dequantized(), {}, "f32 fixed");
    at::Tensor tile = at::empty({23, 192});
    kernels::dequantize_rows(v, 0, 23, tile.data_ptr<float>());
    EXPECT_TRUE(at::equal(tile, w.dequantized().to(at::kFloat))) << "portable " << portable;
  }
  kernels::force_portable(false);
}

TEST(QLinearKernels, DequantizeRowsIsExact) {
  for (bool portable : {false, true}) {
    kernels::force_portable(portable);
    for (int bits : {4, 8}) {
      RandomWeight w = make_weight(bits, 9, 128, 32, true, 3);
      at::Tensor out = at::empty({4, 128});
      kernels::dequantize_rows(w.view(), 3, 7, out.data_ptr<float>());
      // fp32 (code − zero)·scale, as the reference dequantize computes it.
      at::Tensor want =
          ((w.codes.to(at::kFloat).view({9, 4, 32}) - w.zeros.unsqueeze(2)) * w.scales.unsqueeze(2))
              .view({9, 128})
              .narrow(0, 3, 4);
      EXPECT_TRUE(at::equal(out, want)) << bits << " bits, portable " << portable;
    }
  }
  kernels::force_portable(false);
}

TEST(QLinearKernels, QuantizeRowsRoundsHalfToEvenAndClamps) {
  for (bool portable : {false, true}) {
    kernels::force_portable(portable);
    at::Tensor x = at::randn({3, 64}) * 40;
    x[0][0] = 2.5;  // ties: round half to even
    x[0][1] = -3.5;
    x[1][2] = 1e4;  // clamped
    at::Tensor scale = at::tensor({1.0f, 0.37f, 0.05f});
    at::Tensor a = at::empty({3, 64}, at::kChar);
    at::Tensor sums = at::empty({3, 2}, at::kInt);
    kernels::quantize_rows_int8(x.data_ptr<float>(), 3, 64, scale.data_ptr<float>(), -128, 127, 32,
                                a.data_ptr<int8_t>(), sums.data_ptr<int32_t>());
    at::Tensor want = at::clamp(at::round(x / scale.unsqueeze(1)), -128, 127).to(at::kChar);
    EXPECT_TRUE(at::equal(a, want)) << (portable ? "portable" : "avx2");
    EXPECT_TRUE(at::equal(sums, want.to(at::kInt).view({3, 2, 32}).sum(2).to(at::kInt)));
    EXPECT_EQ(a[0][0].item<int>(), 2);
    EXPECT_EQ(a[0][1].item<int>(), -4);
  }
  kernels::force_portable(false);
}

TEST(QLinearKernels, RowMinMax) {
  at::Tensor x = at::randn({4, 96});
  at::Tensor lo = at::empty({4}), hi = at::empty({4});
  kernels::row_min_max(x.data_ptr<float>(), 4, 96, lo.data_ptr<float>(), hi.data_ptr<float>());
  EXPECT_TRUE(at::equal(lo, std::get<0>(x.min(1))));
  EXPECT_TRUE(at::equal(hi, std::get<0>(x.max(1))));
}

TEST(QLinearKernels, RejectsBadViews) {
  RandomWeight w = make_weight(4, 4, 96, 32, false, 1);
  auto v = w.view();
  v.group = 48;
  EXPECT_THROW(kernels::check_view(v), std::invalid_argument);
  v = w.view();
  v.bits = 3;
  EXPECT_THROW(kernels::check_view(v), std::invalid_argument);
}

}  // namespace
}  // namespace slmq
