// kernels::gemv_f32 (decode-size fp32 linears) against at::linear on both paths, over the shapes
// that exercise every branch: weight rows not a multiple of the 4-row block, columns with an
// 8-wide tail, odd and even activation-row counts, with and without bias, split over threads.
// Tolerance: fp32 sums of the same products in another order, relative 1e-5 of the largest
// output (|y| ~ sqrt(cols) for unit normal inputs).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/kernels/cpu_dense.h"
#include "slmq/model/torch_parallel.h"

namespace slmq {
namespace {

class DenseGemv : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { kernels::force_portable(GetParam()); }
  void TearDown() override { kernels::force_portable(false); }
};

TEST_P(DenseGemv, MatchesLinear) {
  at::manual_seed(11);
  for (const int64_t rows : {int64_t{1}, int64_t{7}, int64_t{130}}) {
    for (const int64_t cols : {int64_t{5}, int64_t{64}, int64_t{581}}) {
      for (const int64_t m : {int64_t{1}, int64_t{2}, int64_t{5}, int64_t{8}}) {
        for (const bool with_bias : {false, true}) {
          at::Tensor w = at::randn({rows, cols}), x = at::randn({m, cols});
          at::Tensor b = with_bias ? at::randn({rows}) : at::Tensor();
          at::Tensor want = at::linear(x, w, b), got = at::empty({m, rows});
          kernels::gemv_f32(w.data_ptr<float>(), rows, cols, x.data_ptr<float>(), m,
                            with_bias ? b.data_ptr<float>() : nullptr, got.data_ptr<float>(),
                            torch_parallel_for());
          const double rel = ((got - want).abs().max() / want.abs().max()).item<double>();
          EXPECT_LE(rel, 1e-5) << rows << "x" << cols << " m " << m << " bias " << with_bias;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, DenseGemv, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "portable" : "avx2"; });

}  // namespace
}  // namespace slmq
