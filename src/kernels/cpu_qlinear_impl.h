#pragma once
// What the dispatcher (cpu_qlinear.cpp) calls: one implementation per instruction set, each over
// a range of weight rows so the dispatcher can hand ranges to threads.
#include <cstdint>

#include "slmq/kernels/cpu_qlinear.h"

namespace slmq::kernels::detail {

// Per-call activation data shared by all row ranges.
struct F32Activations {
  const float* x = nullptr;           // [m, cols] as given
  const float* arranged = nullptr;    // 4-bit only: [m, cols], arranged in blocks of 32
  const float* group_sums = nullptr;  // [m, cols / group]: Σ x over each weight group
  int64_t m = 0;
};

struct I8Activations {
  const int8_t* a = nullptr;            // [m, cols] as quantized
  const int8_t* arranged = nullptr;     // 4-bit only: [m, cols], arranged in int4_block blocks
  const int16_t* widened = nullptr;     // 8-bit only: [m, cols] the codes as int16
  const uint8_t* magnitude = nullptr;   // 8-bit codes within ±127: [m, cols] |a|
  const int32_t* group_sums = nullptr;  // [m, cols / group]
  const float* scale = nullptr;         // [m]
  int64_t m = 0;
};

// Σ over the fixed positions k of weight row n (codes of -128 stored as -127) of
// scale·(-1)·act[k]: what the stored codes leave out of the row's dot product.
template <typename T>
float fix_term(const QuantWeightView& w, int64_t n, const T* act) {
  if (w.fix_row_start == nullptr) return 0.0f;
  float t = 0;
  const int64_t groups = w.cols / w.group;
  for (int32_t j = w.fix_row_start[n]; j < w.fix_row_start[n + 1]; ++j) {
    const int32_t k = w.fix_cols[j];
    t -= w.scales[n * groups + k / w.group] * static_cast<float>(act[k]);
  }
  return t;
}

// y rows [row_begin, row_end) for all m: y[i * w.rows + n].
void linear_f32_portable(const QuantWeightView& w, const F32Activations& x, const float* bias,
                         float* y, int64_t row_begin, int64_t row_end);
void linear_i8_portable(const QuantWeightView& w, const I8Activations& a, const float* bias,
                        float* y, int64_t row_begin, int64_t row_end);

void linear_f32_avx2(const QuantWeightView& w, const F32Activations& x, const float* bias, float* y,
                     int64_t row_begin, int64_t row_end);
void linear_i8_avx2(const QuantWeightView& w, const I8Activations& a, const float* bias, float* y,
                    int64_t row_begin, int64_t row_end);
void dequantize_rows_avx2(const QuantWeightView& w, int64_t row_begin, int64_t row_end, float* out);
void quantize_rows_int8_avx2(const float* x, int64_t m, int64_t cols, const float* scale, int lo,
                             int hi, int8_t* a);
void row_min_max_avx2(const float* x, int64_t m, int64_t cols, float* min, float* max);

// The 4-bit kernels read a block of `block` columns (block/2 bytes) as its evens (low nibbles)
// then its odds (high nibbles): activations are rearranged to that order once per call.
template <typename T>
void arrange_even_odd(const T* src, int64_t m, int64_t cols, int64_t block, T* dst) {
  const int64_t half = block / 2;
  for (int64_t i = 0; i < m; ++i) {
    const T* s = src + i * cols;
    T* d = dst + i * cols;
    for (int64_t b = 0; b < cols; b += block) {
      for (int64_t j = 0; j < half; ++j) {
        d[b + j] = s[b + 2 * j];
        d[b + half + j] = s[b + 2 * j + 1];
      }
    }
  }
}

// Block width of the int8-activation 4-bit kernel: 64 columns (one 32-byte load) when the
// groups allow, else 32. The float-activation one always uses 32.
inline int64_t int4_block(const QuantWeightView& w) { return w.group % 64 == 0 ? 64 : 32; }

}  // namespace slmq::kernels::detail
