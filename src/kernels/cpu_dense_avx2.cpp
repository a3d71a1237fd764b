// AVX2+FMA kernel of cpu_dense.h (compiled with -mavx2 -mfma). Four weight rows at a time, each
// with its own accumulators, against two activation rows at a time (the four rows stay in L1 for
// the second pair); prefetch kPrefetchBytes ahead on each weight stream, as the integer kernels.
#include <immintrin.h>

#include <cstdint>

#include "avx2_common.h"

namespace slmq::kernels::detail {
namespace {

constexpr int64_t kPrefetchFloats = kPrefetchBytes / sizeof(float);

// Rows [n, n + R) of W against activation rows [r, r + X): y[(r + i)·rows + n + j].
template <int R, int X>
void block(const float* w, int64_t n, int64_t rows, int64_t cols, const float* x, int64_t r,
           const float* bias, float* y) {
  __m256 acc[R][X];
  for (int j = 0; j < R; ++j)
    for (int i = 0; i < X; ++i) acc[j][i] = _mm256_setzero_ps();
  const int64_t vec = cols & ~int64_t{7};
  for (int64_t k = 0; k < vec; k += 8) {
    __m256 xv[X];
    for (int i = 0; i < X; ++i) xv[i] = _mm256_loadu_ps(x + (r + i) * cols + k);
    for (int j = 0; j < R; ++j) {
      const float* wr = w + (n + j) * cols + k;
      if ((k & 15) == 0)  // one prefetch per 64-byte line
        _mm_prefetch(reinterpret_cast<const char*>(wr + kPrefetchFloats), _MM_HINT_T0);
      const __m256 wv = _mm256_loadu_ps(wr);
      for (int i = 0; i < X; ++i) acc[j][i] = _mm256_fmadd_ps(wv, xv[i], acc[j][i]);
    }
  }
  for (int j = 0; j < R; ++j) {
    for (int i = 0; i < X; ++i) {
      float s = hsum(acc[j][i]);
      for (int64_t k = vec; k < cols; ++k) s += w[(n + j) * cols + k] * x[(r + i) * cols + k];
      y[(r + i) * rows + n + j] = s + (bias ? bias[n + j] : 0.0f);
    }
  }
}

template <int R>
void rows_block(const float* w, int64_t n, int64_t rows, int64_t cols, const float* x, int64_t m,
                const float* bias, float* y) {
  int64_t r = 0;
  for (; r + 2 <= m; r += 2) block<R, 2>(w, n, rows, cols, x, r, bias, y);
  if (r < m) block<R, 1>(w, n, rows, cols, x, r, bias, y);
}

}  // namespace

void gemv_f32_avx2(const float* w, int64_t row_begin, int64_t row_end, int64_t rows, int64_t cols,
                   const float* x, int64_t m, const float* bias, float* y) {
  int64_t n = row_begin;
  for (; n + 4 <= row_end; n += 4) rows_block<4>(w, n, rows, cols, x, m, bias, y);
  for (; n < row_end; ++n) rows_block<1>(w, n, rows, cols, x, m, bias, y);
}

}  // namespace slmq::kernels::detail
