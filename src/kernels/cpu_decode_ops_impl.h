#pragma once
// AVX2 versions of cpu_decode_ops.h, called by its dispatcher when the CPU has AVX2+FMA.
#include <cstdint>

namespace slmq::kernels::detail {

bool use_avx2_now();  // has_avx2() && !force_portable (cpu_qlinear.cpp)

float sum_squares_avx2(const float* x, int64_t n);
void scale_mul_avx2(const float* x, const float* weight, float r, int64_t n, float* out);
float dot_avx2(const float* a, const float* b, int64_t n);
void axpy_avx2(float a, const float* x, float* y, int64_t n);  // y += a·x
// x[i] = exp(x[i] − shift), returns the sum.
float exp_shift_sum_avx2(float* x, int64_t n, float shift);
void silu_mul_avx2(float* gate, const float* up, int64_t n);
void gelu_tanh_mul_avx2(float* gate, const float* up, int64_t n);
void add_into_avx2(float* x, const float* y, int64_t n);
// Σ_g scale[g] · Σ_{i in g} q[i]·code[i] over d values in groups of `group` (a multiple of 8).
float dot_int8_avx2(const float* q, const int8_t* codes, const float* scales, int64_t d,
                    int64_t group);
// y[i] += p · scale[i / group] · code[i] for d values (group a multiple of 8).
void axpy_int8_avx2(float p, const int8_t* codes, const float* scales, int64_t d, int64_t group,
                    float* y);

}  // namespace slmq::kernels::detail
