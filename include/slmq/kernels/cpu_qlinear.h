#pragma once
// CPU kernels for linears with integer weights (4 or 8 bits, per-row or per-group scales), with
// float activations (W8A16, W4A16) or int8 activations quantized per row (W8A8, W4A8). Torch-free:
// plain pointers and a caller-supplied parallel-for, so the torch adapter
// (src/quant/backends/) decides threading and memory. AVX2+FMA code is chosen at run time when
// the CPU has it; a portable C++ path computes the same sums otherwise (and is the reference the
// tests compare the AVX2 path with).
//
// Weight layout: what the packed checkpoint holds, so a loaded compressed-tensors weight is used
// without a copy.
//   bits 8: int8 [rows, cols] row-major.
//   bits 4: uint8 [rows, cols / 2] row-major; element 2j of a row in the low nibble of byte j,
//           2j+1 in the high one (compressed-tensors' pack_to_int32 words read as little-endian
//           bytes), each an unsigned code u in [0, 16).
// A weight is w[n][k] = (code[n][k] - zero[n][g]) * scale[n][g], g = k / group.
#include <cstdint>
#include <functional>

namespace slmq::kernels {

// Runs body(begin, end) over disjoint ranges covering [0, n), each at least `grain` long where n
// allows. An empty function runs body(0, n) on the calling thread.
using ParallelFor =
    std::function<void(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>&)>;

struct QuantWeightView {
  int bits = 8;                   // 4 or 8
  int64_t rows = 0;               // output features N
  int64_t cols = 0;               // input features K
  int64_t group = 0;              // columns per scale; divides cols; a multiple of 32
  const void* codes = nullptr;    // layout above
  const float* scales = nullptr;  // [rows, cols / group]
  const float* zeros = nullptr;   // [rows, cols / group] in code units; nullptr: `zero` for all
  float zero = 0;                 // the zero point of every group when `zeros` is null
  // 8-bit only. true: every stored code lies in [-127, 127], so the int8-activation kernel may
  // multiply sign-adjusted operands with pmaddubsw; codes of -128 are then stored as -127 and
  // listed by row in fix_row_start [rows + 1] / fix_cols (CSR; null: none), and every kernel
  // adds the missing -1 back.
  bool codes_within_127 = false;
  const int32_t* fix_row_start = nullptr;
  const int32_t* fix_cols = nullptr;
};

// Throws std::invalid_argument naming what is wrong (bits, group, sizes, null pointers).
void check_view(const QuantWeightView& w);

// Whether the AVX2+FMA paths run on this CPU (else the portable ones).
bool has_avx2();
// Forces the portable path (tests compare the two); process-wide, not thread-safe.
void force_portable(bool on);

// y [m, rows] = x [m, cols] · Wᵀ (+ bias [rows] when not null), float activations. Each output
// is Σ_g scale·(Σ_k code·x − zero·Σ_k x) over the row's groups, accumulated in fp32.
void linear_f32(const QuantWeightView& w, const float* x, int64_t m, const float* bias, float* y,
                const ParallelFor& parallel);

// Dynamic symmetric activation quantization: for each of the m rows of x [m, cols],
// a = clamp(nearbyint(x / scale[row]), lo, hi) as int8, with IEEE division and round half to even
// (bit for bit the codes of slmq::quantize_values for a symmetric flavour, whose codes minus zero
// point lie in [lo, hi] ⊂ [-128, 127]). Also writes the sum of each row's codes over each block of
// `group` columns, [m, cols / group] int32 (the kernels' zero-point correction).
void quantize_rows_int8(const float* x, int64_t m, int64_t cols, const float* scale, int lo, int hi,
                        int64_t group, int8_t* a, int32_t* group_sums);
// min and max over each of the m rows of x [m, cols] (the range an activation scale comes from).
void row_min_max(const float* x, int64_t m, int64_t cols, float* min, float* max);

// y [m, rows] = a_scale[i] · Σ_g scale·(Σ_k code·a − zero·Σ_k a) (+ bias): int8 activations a
// [m, cols] from quantize_rows_int8 with their group sums; integer dot products are exact (int32).
void linear_i8(const QuantWeightView& w, const int8_t* a, const int32_t* a_group_sums,
               const float* a_scale, int64_t m, const float* bias, float* y,
               const ParallelFor& parallel);

// Rows [row_begin, row_end) of W as fp32 [(row_end − row_begin), cols] at out (the prefill path:
// dequantized tiles fed to a float GEMM). Bit-identical to (code − zero)·scale in fp32.
void dequantize_rows(const QuantWeightView& w, int64_t row_begin, int64_t row_end, float* out);

}  // namespace slmq::kernels
