// Dispatcher and portable kernels. Activations are prepared once per call (group sums, the 4-bit
// even/odd arrangement, int16 widening) and the weight rows are split over threads.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu_decode_ops_impl.h"
#include "cpu_qlinear_impl.h"

namespace slmq::kernels {

void dequantize_rows_portable(const QuantWeightView& w, int64_t row_begin, int64_t row_end,
                              float* out);

namespace {

bool g_force_portable = false;

bool use_avx2() { return !g_force_portable && has_avx2(); }

int64_t groups_of(const QuantWeightView& w) { return w.cols / w.group; }

// Weight rows per task: enough work per task that splitting pays, whatever the thread count.
int64_t row_grain(const QuantWeightView& w, int64_t m) {
  const int64_t work_per_row = std::max<int64_t>(1, w.cols * std::min<int64_t>(m, 4));
  return std::max<int64_t>(16, (int64_t{1} << 16) / work_per_row);
}

void run_rows(const ParallelFor& parallel, int64_t rows, int64_t grain,
              const std::function<void(int64_t, int64_t)>& body) {
  if (parallel)
    parallel(rows, grain, body);
  else
    body(0, rows);
}

// 4-bit codes of row n, column k.
inline int code4(const QuantWeightView& w, int64_t n, int64_t k) {
  const uint8_t byte = static_cast<const uint8_t*>(w.codes)[n * (w.cols / 2) + k / 2];
  return (k % 2 == 0) ? (byte & 0x0F) : (byte >> 4);
}

inline int code_at(const QuantWeightView& w, int64_t n, int64_t k) {
  return w.bits == 8 ? static_cast<const int8_t*>(w.codes)[n * w.cols + k] : code4(w, n, k);
}

}  // namespace

void check_view(const QuantWeightView& w) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("qlinear: " + what); };
  if (w.bits != 4 && w.bits != 8) fail("bits must be 4 or 8, got " + std::to_string(w.bits));
  if (w.rows <= 0 || w.cols <= 0) fail("empty weight");
  if (w.group <= 0 || w.group % 32 != 0 || w.cols % w.group != 0)
    fail("group " + std::to_string(w.group) + " must be a multiple of 32 dividing " +
         std::to_string(w.cols) + " columns");
  if (!w.codes || !w.scales) fail("null codes or scales");
}

bool has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

void force_portable(bool on) { g_force_portable = on; }

namespace detail {

bool use_avx2_now() { return use_avx2(); }

void linear_f32_portable(const QuantWeightView& w, const F32Activations& x, const float* bias,
                         float* y, int64_t row_begin, int64_t row_end) {
  const int64_t groups = groups_of(w);
  for (int64_t i = 0; i < x.m; ++i) {
    const float* xr = x.x + i * w.cols;
    for (int64_t n = row_begin; n < row_end; ++n) {
      float total = 0;
      for (int64_t g = 0; g < groups; ++g) {
        float acc = 0;
        for (int64_t k = g * w.group; k < (g + 1) * w.group; ++k)
          acc += static_cast<float>(code_at(w, n, k)) * xr[k];
        const float zero = w.zeros ? w.zeros[n * groups + g] : w.zero;
        if (zero != 0) acc -= zero * x.group_sums[i * groups + g];
        total += w.scales[n * groups + g] * acc;
      }
      y[i * w.rows + n] = total + fix_term(w, n, xr) + (bias ? bias[n] : 0.0f);
    }
  }
}

void linear_i8_portable(const QuantWeightView& w, const I8Activations& a, const float* bias,
                        float* y, int64_t row_begin, int64_t row_end) {
  const int64_t groups = groups_of(w);
  for (int64_t i = 0; i < a.m; ++i) {
    const int8_t* ar = a.a + i * w.cols;
    for (int64_t n = row_begin; n < row_end; ++n) {
      float total = 0;
      for (int64_t g = 0; g < groups; ++g) {
        int32_t dot = 0;
        for (int64_t k = g * w.group; k < (g + 1) * w.group; ++k) dot += code_at(w, n, k) * ar[k];
        float v = static_cast<float>(dot);
        const float zero = w.zeros ? w.zeros[n * groups + g] : w.zero;
        if (zero != 0) v -= zero * static_cast<float>(a.group_sums[i * groups + g]);
        total += w.scales[n * groups + g] * v;
      }
      y[i * w.rows + n] = a.scale[i] * (total + fix_term(w, n, ar)) + (bias ? bias[n] : 0.0f);
    }
  }
}

}  // namespace detail

void linear_f32(const QuantWeightView& w, const float* x, int64_t m, const float* bias, float* y,
                const ParallelFor& parallel) {
  check_view(w);
  const int64_t groups = groups_of(w);
  const bool zeros = w.zeros || w.zero != 0;
  // Per-thread scratch: decode calls this hundreds of times per token.
  thread_local std::vector<float> sums, arranged;
  sums.resize(zeros ? m * groups : 0);
  for (int64_t i = 0; zeros && i < m; ++i)
    for (int64_t g = 0; g < groups; ++g) {
      float s = 0;
      for (int64_t k = g * w.group; k < (g + 1) * w.group; ++k) s += x[i * w.cols + k];
      sums[i * groups + g] = s;
    }
  detail::F32Activations acts{x, nullptr, zeros ? sums.data() : nullptr, m};
  const bool avx2 = use_avx2();
  if (avx2 && w.bits == 4) {
    arranged.resize(m * w.cols);
    detail::arrange_even_odd(x, m, w.cols, 32, arranged.data());
    acts.arranged = arranged.data();
  }
  run_rows(parallel, w.rows, row_grain(w, m), [&](int64_t b, int64_t e) {
    if (avx2)
      detail::linear_f32_avx2(w, acts, bias, y, b, e);
    else
      detail::linear_f32_portable(w, acts, bias, y, b, e);
  });
}

void row_min_max(const float* x, int64_t m, int64_t cols, float* min, float* max) {
  if (use_avx2() && cols % 8 == 0) return detail::row_min_max_avx2(x, m, cols, min, max);
  for (int64_t i = 0; i < m; ++i) {
    const float* xr = x + i * cols;
    min[i] = *std::min_element(xr, xr + cols);
    max[i] = *std::max_element(xr, xr + cols);
  }
}

void quantize_rows_int8(const float* x, int64_t m, int64_t cols, const float* scale, int lo, int hi,
                        int64_t group, int8_t* a, int32_t* group_sums) {
  if (lo < -128 || hi > 127 || lo > hi) throw std::invalid_argument("qlinear: int8 range");
  if (use_avx2() && cols % 32 == 0) {
    detail::quantize_rows_int8_avx2(x, m, cols, scale, lo, hi, a);
  } else {
    for (int64_t i = 0; i < m * cols; ++i) {
      const float q = std::nearbyint(x[i] / scale[i / cols]);
      a[i] = static_cast<int8_t>(std::min(std::max(q, float(lo)), float(hi)));
    }
  }
  if (!group_sums) return;
  const int64_t groups = cols / group;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t g = 0; g < groups; ++g) {
      int32_t s = 0;
      for (int64_t k = g * group; k < (g + 1) * group; ++k) s += a[i * cols + k];
      group_sums[i * groups + g] = s;
    }
}

void linear_i8(const QuantWeightView& w, const int8_t* a, const int32_t* a_group_sums,
               const float* a_scale, int64_t m, const float* bias, float* y,
               const ParallelFor& parallel) {
  check_view(w);
  detail::I8Activations acts{a, nullptr, nullptr, nullptr, a_group_sums, a_scale, m};
  const bool avx2 = use_avx2();
  thread_local std::vector<int8_t> arranged;
  thread_local std::vector<int16_t> widened;
  thread_local std::vector<uint8_t> magnitude;
  if (avx2 && w.bits == 4) {
    arranged.resize(m * w.cols);
    detail::arrange_even_odd(a, m, w.cols, detail::int4_block(w), arranged.data());
    acts.arranged = arranged.data();
  } else if (avx2 && w.codes_within_127) {
    magnitude.resize(m * w.cols);
    for (int64_t k = 0; k < m * w.cols; ++k)
      magnitude[k] = static_cast<uint8_t>(a[k] < 0 ? -static_cast<int>(a[k]) : a[k]);
    acts.magnitude = magnitude.data();
  } else if (avx2) {
    widened.assign(a, a + m * w.cols);
    acts.widened = widened.data();
  }
  run_rows(parallel, w.rows, row_grain(w, m), [&](int64_t b, int64_t e) {
    if (avx2)
      detail::linear_i8_avx2(w, acts, bias, y, b, e);
    else
      detail::linear_i8_portable(w, acts, bias, y, b, e);
  });
}

void dequantize_rows(const QuantWeightView& w, int64_t row_begin, int64_t row_end, float* out) {
  check_view(w);
  const int64_t groups = groups_of(w);
  if (use_avx2()) {
    detail::dequantize_rows_avx2(w, row_begin, row_end, out);
  } else {
    dequantize_rows_portable(w, row_begin, row_end, out);
  }
  // Codes of -128 stored as -127: their true value.
  for (int64_t n = row_begin; w.fix_row_start && n < row_end; ++n) {
    for (int32_t j = w.fix_row_start[n]; j < w.fix_row_start[n + 1]; ++j) {
      const int32_t k = w.fix_cols[j];
      const float z = w.zeros ? w.zeros[n * groups + k / w.group] : w.zero;
      out[(n - row_begin) * w.cols + k] = (-128.0f - z) * w.scales[n * groups + k / w.group];
    }
  }
}

void dequantize_rows_portable(const QuantWeightView& w, int64_t row_begin, int64_t row_end,
                              float* out) {
  const int64_t groups = groups_of(w);
  for (int64_t n = row_begin; n < row_end; ++n) {
    float* o = out + (n - row_begin) * w.cols;
    for (int64_t g = 0; g < groups; ++g) {
      const float s = w.scales[n * groups + g];
      const float z = w.zeros ? w.zeros[n * groups + g] : w.zero;
      for (int64_t k = g * w.group; k < (g + 1) * w.group; ++k)
        o[k] = (static_cast<float>(code_at(w, n, k)) - z) * s;
    }
  }
}

}  // namespace slmq::kernels
