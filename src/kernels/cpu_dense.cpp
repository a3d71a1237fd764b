// Dispatcher and portable path of cpu_dense.h: weight rows split over threads, each range run by
// the AVX2 kernel when the CPU has it.
#include "slmq/kernels/cpu_dense.h"

#include <algorithm>

#include "cpu_decode_ops_impl.h"

namespace slmq::kernels {
namespace detail {
void gemv_f32_avx2(const float* w, int64_t row_begin, int64_t row_end, int64_t rows, int64_t cols,
                   const float* x, int64_t m, const float* bias, float* y);
}  // namespace detail

namespace {

void gemv_f32_portable(const float* w, int64_t row_begin, int64_t row_end, int64_t rows,
                       int64_t cols, const float* x, int64_t m, const float* bias, float* y) {
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t n = row_begin; n < row_end; ++n) {
      float s = 0;
      for (int64_t k = 0; k < cols; ++k) s += w[n * cols + k] * x[r * cols + k];
      y[r * rows + n] = s + (bias ? bias[n] : 0.0f);
    }
  }
}

}  // namespace

void gemv_f32(const float* w, int64_t rows, int64_t cols, const float* x, int64_t m,
              const float* bias, float* y, const ParallelFor& parallel) {
  const bool avx2 = detail::use_avx2_now();
  auto body = [&](int64_t begin, int64_t end) {
    if (avx2)
      detail::gemv_f32_avx2(w, begin, end, rows, cols, x, m, bias, y);
    else
      gemv_f32_portable(w, begin, end, rows, cols, x, m, bias, y);
  };
  // Enough rows per task (~64 K weights) that splitting pays at any thread count.
  const int64_t grain = std::max<int64_t>(16, (int64_t{1} << 16) / std::max<int64_t>(1, cols));
  if (parallel)
    parallel(rows, grain, body);
  else
    body(0, rows);
}

}  // namespace slmq::kernels
