#pragma once
// Helpers shared by the AVX2+FMA kernel files (*_avx2.cpp, the only files compiled with -mavx2
// -mfma; include this from nowhere else).
#include <immintrin.h>

#include <cstdint>

namespace slmq::kernels::detail {

// Software prefetch distance on every weight stream: 1024 and 4096 B were not distinguishable
// from 2048 in paired decode runs (docs/inference.md).
constexpr int64_t kPrefetchBytes = 2048;

// Sum of the 8 lanes.
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 8 int8 codes at p as 8 floats.
inline __m256 f8(const int8_t* p) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

}  // namespace slmq::kernels::detail
