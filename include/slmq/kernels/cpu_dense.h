#pragma once
// Float32 linears at decode sizes: y [m, rows] = x [m, cols] · Wᵀ (+ bias [rows] when not null)
// for a row-major fp32 W [rows, cols] and few activation rows m. Why not BLAS: the MKL that
// torch's x86 wheels link takes its generic sgemv path on AMD CPUs (mkl_blas_def_xsgemv: 89 % of
// SmolLM2 fp32 decode in a perf profile on the dev box, about 11.5 GB/s of weights read), while
// this streams W with AVX2 FMAs and software prefetch. Torch-free, like cpu_qlinear.h; a portable
// path computes the same sums where the CPU lacks AVX2+FMA (or force_portable is on).
#include <cstdint>

#include "slmq/kernels/cpu_qlinear.h"

namespace slmq::kernels {

void gemv_f32(const float* w, int64_t rows, int64_t cols, const float* x, int64_t m,
              const float* bias, float* y, const ParallelFor& parallel);

}  // namespace slmq::kernels
