// AVX2+FMA kernels (this file alone is compiled with -mavx2 -mfma; the dispatcher calls it only
// when the CPU has both). Decode streams every weight once per token: the kernels walk a few
// weight rows at a time (over_rows says how many and why), with independent accumulators per row
// and the per-row fixed costs (horizontal sums, zero-point terms) paid once per row, not per
// group. Activation rows are handled one after the other over the same weight rows, which stay in
// L1; software prefetch runs kPrefetchBytes ahead of every weight stream.
#include <immintrin.h>

#include <algorithm>

#include "avx2_common.h"
#include "cpu_qlinear_impl.h"

namespace slmq::kernels::detail {
namespace {

// Σ_g scale·zero·Σx over the groups of weight row n: the zero-point term of its output.
template <typename Sum>
float zero_term(const QuantWeightView& w, int64_t n, const Sum* group_sums) {
  const int64_t groups = w.cols / w.group;
  const float* s = w.scales + n * groups;
  float t = 0;
  if (w.zeros) {
    const float* z = w.zeros + n * groups;
    for (int64_t g = 0; g < groups; ++g) t += s[g] * z[g] * static_cast<float>(group_sums[g]);
  } else if (w.zero != 0) {
    for (int64_t g = 0; g < groups; ++g) t += s[g] * static_cast<float>(group_sums[g]);
    t *= w.zero;
  }
  return t;
}

// Float activations, 8-bit codes: rows [n, n + R) against one activation row xr.
template <int R>
void block_f32_w8(const QuantWeightView& w, int64_t n, const float* xr, __m256* total) {
  const int8_t* codes = static_cast<const int8_t*>(w.codes) + n * w.cols;
  const int64_t groups = w.cols / w.group;
  for (int64_t g = 0; g < groups; ++g) {
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 32) {
      const __m256 x0 = _mm256_loadu_ps(xr + k), x1 = _mm256_loadu_ps(xr + k + 8);
      const __m256 x2 = _mm256_loadu_ps(xr + k + 16), x3 = _mm256_loadu_ps(xr + k + 24);
      for (int r = 0; r < R; ++r) {
        const int8_t* c = codes + r * w.cols + k;
        acc[r][0] = _mm256_fmadd_ps(f8(c), x0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(f8(c + 8), x1, acc[r][1]);
        acc[r][0] = _mm256_fmadd_ps(f8(c + 16), x2, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(f8(c + 24), x3, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(w.scales + (n + r) * groups + g);
      total[r] = _mm256_fmadd_ps(s, _mm256_add_ps(acc[r][0], acc[r][1]), total[r]);
    }
  }
}

// Float activations, 4-bit codes; xr arranged per 32-block as evens then odds.
template <int R>
void block_f32_w4(const QuantWeightView& w, int64_t n, const float* xr, __m256* total) {
  const uint8_t* codes = static_cast<const uint8_t*>(w.codes) + n * (w.cols / 2);
  const int64_t groups = w.cols / w.group;
  const __m128i mask = _mm_set1_epi8(0x0F);
  for (int64_t g = 0; g < groups; ++g) {
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 32) {
      const __m256 x0 = _mm256_loadu_ps(xr + k), x1 = _mm256_loadu_ps(xr + k + 8);
      const __m256 x2 = _mm256_loadu_ps(xr + k + 16), x3 = _mm256_loadu_ps(xr + k + 24);
      for (int r = 0; r < R; ++r) {
        const uint8_t* c = codes + r * (w.cols / 2) + k / 2;
        if ((k & 127) == 0)  // one prefetch per 64-byte line (128 columns)
          _mm_prefetch(reinterpret_cast<const char*>(c + kPrefetchBytes), _MM_HINT_T0);
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
        const __m128i lo = _mm_and_si128(b, mask);
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
        auto f = [](__m128i v) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)); };
        acc[r][0] = _mm256_fmadd_ps(f(lo), x0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(f(_mm_srli_si128(lo, 8)), x1, acc[r][1]);
        acc[r][0] = _mm256_fmadd_ps(f(hi), x2, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(f(_mm_srli_si128(hi, 8)), x3, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(w.scales + (n + r) * groups + g);
      total[r] = _mm256_fmadd_ps(s, _mm256_add_ps(acc[r][0], acc[r][1]), total[r]);
    }
  }
}

// Int8 activations widened to int16, 8-bit codes: pmaddwd is exact where pmaddubsw could
// saturate (a code of -128 against an activation of -128).
template <int R>
void block_i8_w8(const QuantWeightView& w, int64_t n, const int16_t* ar, __m256* total) {
  const int8_t* codes = static_cast<const int8_t*>(w.codes) + n * w.cols;
  const int64_t groups = w.cols / w.group;
  for (int64_t g = 0; g < groups; ++g) {
    __m256i acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 32) {
      const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + k));
      const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + k + 16));
      for (int r = 0; r < R; ++r) {
        const int8_t* c = codes + r * w.cols + k;
        _mm_prefetch(reinterpret_cast<const char*>(c + kPrefetchBytes), _MM_HINT_T0);
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)c));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(c + 16)));
        acc[r] = _mm256_add_epi32(
            acc[r], _mm256_add_epi32(_mm256_madd_epi16(w0, a0), _mm256_madd_epi16(w1, a1)));
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(w.scales + (n + r) * groups + g);
      total[r] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(acc[r]), total[r]);
    }
  }
}

// Int8 activations, 8-bit codes within ±127: pmaddubsw(|a|, code·sign(a)) pairs stay within
// 2·128·127 < 2^15, so the products are exact with a third fewer instructions than pmaddwd.
template <int R>
void block_i8_w8_sign(const QuantWeightView& w, int64_t n, const int8_t* ar, __m256* total,
                      const uint8_t* mag) {
  const int8_t* codes = static_cast<const int8_t*>(w.codes) + n * w.cols;
  const int64_t groups = w.cols / w.group;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t g = 0; g < groups; ++g) {
    __m256i acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 32) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + k));
      const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mag + k));
      for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(codes + r * w.cols + k + kPrefetchBytes),
                     _MM_HINT_T0);
        const __m256i c =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + r * w.cols + k));
        const __m256i p = _mm256_maddubs_epi16(m, _mm256_sign_epi8(c, a));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(p, ones));
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(w.scales + (n + r) * groups + g);
      total[r] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(acc[r]), total[r]);
    }
  }
}

// Int8 activations, 4-bit codes, blocks of 64 columns (the activations arranged per 64-block as
// evens then odds): 32 bytes hold 64 codes, low nibbles the evens. u in [0, 15] times a in
// [-128, 127]: pmaddubsw pair sums stay within ±3840, two of them within int16.
template <int R>
void block_i8_w4_64(const QuantWeightView& w, int64_t n, const int8_t* ar, __m256* total) {
  const uint8_t* codes = static_cast<const uint8_t*>(w.codes) + n * (w.cols / 2);
  const int64_t groups = w.cols / w.group;
  const __m256i mask = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (int64_t g = 0; g < groups; ++g) {
    __m256i acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 64) {
      const __m256i ae = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + k));
      const __m256i ao = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + k + 32));
      for (int r = 0; r < R; ++r) {
        const uint8_t* c = codes + r * (w.cols / 2) + k / 2;
        _mm_prefetch(reinterpret_cast<const char*>(c + kPrefetchBytes), _MM_HINT_T0);
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c));
        const __m256i lo = _mm256_and_si256(b, mask);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), mask);
        const __m256i p =
            _mm256_add_epi16(_mm256_maddubs_epi16(lo, ae), _mm256_maddubs_epi16(hi, ao));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(p, ones));
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(w.scales + (n + r) * groups + g);
      total[r] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(acc[r]), total[r]);
    }
  }
}

// The same for groups of 32 columns (activations arranged per 32-block).
template <int R>
void block_i8_w4_32(const QuantWeightView& w, int64_t n, const int8_t* ar, __m256* total) {
  const uint8_t* codes = static_cast<const uint8_t*>(w.codes) + n * (w.cols / 2);
  const int64_t groups = w.cols / w.group;
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t g = 0; g < groups; ++g) {
    __m256i acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 32) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + k));
      for (int r = 0; r < R; ++r) {
        const uint8_t* c = codes + r * (w.cols / 2) + k / 2;
        if ((k & 127) == 0)  // one prefetch per 64-byte line (128 columns)
          _mm_prefetch(reinterpret_cast<const char*>(c + kPrefetchBytes), _MM_HINT_T0);
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
        const __m256i u =
            _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), mask), _mm_and_si128(b, mask));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), ones));
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(w.scales + (n + r) * groups + g);
      total[r] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(acc[r]), total[r]);
    }
  }
}

// Calls Block<R>(w, n, activation row, totals) over rows [begin, end) in blocks of R rows (the
// remainder one row at a time) and hands each row's total to finish(n, sum). R per kernel, as
// measured on a Zen 3 core streaming SmolLM2's weights: one row at a time for 8-bit codes (a
// single sequential stream keeps the prefetchers ahead: 1.4-2.5x faster than 4 rows), two for
// 4-bit codes with int8 activations (1.5x faster than one or four).
template <template <int> class Block, int R, typename T, typename Finish>
void over_rows(const QuantWeightView& w, const T* act, int64_t begin, int64_t end, Finish finish,
               const uint8_t* extra = nullptr) {
  int64_t n = begin;
  for (; n + R <= end; n += R) {
    __m256 total[R];
    for (auto& t : total) t = _mm256_setzero_ps();
    Block<R>::run(w, n, act, total, extra);
    for (int r = 0; r < R; ++r) finish(n + r, hsum(total[r]));
  }
  for (; n < end; ++n) {
    __m256 total[1] = {_mm256_setzero_ps()};
    Block<1>::run(w, n, act, total, extra);
    finish(n, hsum(total[0]));
  }
}

#define SLMQ_BLOCK(name, fn, T)                                                                   \
  template <int R>                                                                                \
  struct name {                                                                                   \
    static void run(const QuantWeightView& w, int64_t n, const T* a, __m256* t, const uint8_t*) { \
      fn<R>(w, n, a, t);                                                                          \
    }                                                                                             \
  };
SLMQ_BLOCK(F32W8, block_f32_w8, float)
SLMQ_BLOCK(F32W4, block_f32_w4, float)
SLMQ_BLOCK(I8W8, block_i8_w8, int16_t)
SLMQ_BLOCK(I8W4x64, block_i8_w4_64, int8_t)
SLMQ_BLOCK(I8W4x32, block_i8_w4_32, int8_t)
#undef SLMQ_BLOCK

template <int R>
struct I8W8Sign {
  static void run(const QuantWeightView& w, int64_t n, const int8_t* a, __m256* t,
                  const uint8_t* mag) {
    block_i8_w8_sign<R>(w, n, a, t, mag);
  }
};

}  // namespace

void linear_f32_avx2(const QuantWeightView& w, const F32Activations& x, const float* bias, float* y,
                     int64_t row_begin, int64_t row_end) {
  const int64_t groups = w.cols / w.group;
  for (int64_t i = 0; i < x.m; ++i) {
    const float* sums = x.group_sums ? x.group_sums + i * groups : nullptr;
    const float* xr = x.x + i * w.cols;
    auto finish = [&](int64_t n, float sum) {
      const float z = sums ? zero_term(w, n, sums) : 0.0f;
      y[i * w.rows + n] = sum - z + fix_term(w, n, xr) + (bias ? bias[n] : 0.0f);
    };
    if (w.bits == 8)
      over_rows<F32W8, 1>(w, x.x + i * w.cols, row_begin, row_end, finish);
    else
      over_rows<F32W4, 4>(w, x.arranged + i * w.cols, row_begin, row_end, finish);
  }
}

void linear_i8_avx2(const QuantWeightView& w, const I8Activations& a, const float* bias, float* y,
                    int64_t row_begin, int64_t row_end) {
  const int64_t groups = w.cols / w.group;
  for (int64_t i = 0; i < a.m; ++i) {
    const int32_t* sums = a.group_sums + i * groups;
    const int8_t* ar = a.a + i * w.cols;
    auto finish = [&](int64_t n, float sum) {
      y[i * w.rows + n] =
          a.scale[i] * (sum - zero_term(w, n, sums) + fix_term(w, n, ar)) + (bias ? bias[n] : 0.0f);
    };
    if (w.bits == 8 && a.magnitude)
      over_rows<I8W8Sign, 1>(w, ar, row_begin, row_end, finish, a.magnitude + i * w.cols);
    else if (w.bits == 8)
      over_rows<I8W8, 1>(w, a.widened + i * w.cols, row_begin, row_end, finish);
    else if (int4_block(w) == 64)
      over_rows<I8W4x64, 2>(w, a.arranged + i * w.cols, row_begin, row_end, finish);
    else
      over_rows<I8W4x32, 2>(w, a.arranged + i * w.cols, row_begin, row_end, finish);
  }
}

// (code − zero)·scale per element, as the portable loop computes it (a subtraction then a
// product, no fused multiply-add), so the tiles are bit-identical to the reference dequantize.
void dequantize_rows_avx2(const QuantWeightView& w, int64_t row_begin, int64_t row_end,
                          float* out) {
  const int64_t groups = w.cols / w.group;
  const __m128i mask = _mm_set1_epi8(0x0F);
  for (int64_t n = row_begin; n < row_end; ++n) {
    float* o = out + (n - row_begin) * w.cols;
    for (int64_t g = 0; g < groups; ++g) {
      const __m256 s = _mm256_set1_ps(w.scales[n * groups + g]);
      const __m256 z = _mm256_set1_ps(w.zeros ? w.zeros[n * groups + g] : w.zero);
      for (int64_t k = g * w.group; k < (g + 1) * w.group; k += 32) {
        __m256 v[4];
        if (w.bits == 8) {
          const int8_t* c = static_cast<const int8_t*>(w.codes) + n * w.cols + k;
          for (int j = 0; j < 4; ++j)
            v[j] = _mm256_cvtepi32_ps(
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + 8 * j))));
        } else {
          // 16 bytes hold 32 codes, element 2j low and 2j+1 high: interleave them back.
          const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(
              static_cast<const uint8_t*>(w.codes) + n * (w.cols / 2) + k / 2));
          const __m128i lo = _mm_and_si128(b, mask);
          const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
          const __m128i first = _mm_unpacklo_epi8(lo, hi), second = _mm_unpackhi_epi8(lo, hi);
          v[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(first));
          v[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(first, 8)));
          v[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(second));
          v[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(second, 8)));
        }
        for (int j = 0; j < 4; ++j)
          _mm256_storeu_ps(o + k + 8 * j, _mm256_mul_ps(_mm256_sub_ps(v[j], z), s));
      }
    }
  }
}

void quantize_rows_int8_avx2(const float* x, int64_t m, int64_t cols, const float* scale, int lo,
                             int hi, int8_t* a) {
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(lo));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(hi));
  for (int64_t i = 0; i < m; ++i) {
    const float* xr = x + i * cols;
    int8_t* ar = a + i * cols;
    const __m256 s = _mm256_set1_ps(scale[i]);
    for (int64_t k = 0; k < cols; k += 32) {
      __m256i q[4];
      for (int j = 0; j < 4; ++j) {
        // IEEE division then round half to even, as at::round(x / scale).
        __m256 v = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(xr + k + 8 * j), s),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q[j] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, vlo), vhi));
      }
      // int32 -> int16 -> int8 (values are in range), then undo the lane interleaving of the
      // pack instructions.
      __m256i p8 =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar + k), p8);
    }
  }
}

void row_min_max_avx2(const float* x, int64_t m, int64_t cols, float* min, float* max) {
  for (int64_t i = 0; i < m; ++i) {
    const float* xr = x + i * cols;
    __m256 lo = _mm256_loadu_ps(xr), hi = lo;
    for (int64_t k = 8; k < cols; k += 8) {
      const __m256 v = _mm256_loadu_ps(xr + k);
      lo = _mm256_min_ps(lo, v);
      hi = _mm256_max_ps(hi, v);
    }
    __m128 l = _mm_min_ps(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1));
    l = _mm_min_ps(l, _mm_movehl_ps(l, l));
    l = _mm_min_ss(l, _mm_movehdup_ps(l));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(hi), _mm256_extractf128_ps(hi, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    min[i] = _mm_cvtss_f32(l);
    max[i] = _mm_cvtss_f32(h);
  }
}

}  // namespace slmq::kernels::detail
