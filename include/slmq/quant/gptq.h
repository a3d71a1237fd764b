#pragma once
// The GPTQ solver of IST-DASLab gptq.py `fasterquant` (specs/quant_methods.md §3.1) for one linear
// given its input Hessian: blocked lazy updates, damping, act-order, static or dynamic groups
// (dynamic group parameters come from the lazily updated matrix, as the original does), and a
// Cholesky that raises the damping ×10 and retries when it fails. The Hessian comes from
// calib/hessian.h; calibration and the layer-by-layer driver are in methods/gptq. The column loop
// runs on the CPU (see gptq.cpp).
#include <ATen/core/Tensor.h>

#include "slmq/quant/gptq_options.h"
#include "slmq/quant/quantizer.h"

namespace slmq {

struct GptqResult {
  QuantizedWeight weight;  // codes/scales/zeros in the original column order
  at::Tensor dequantized;  // [out, in] fp32, what the original writes back
  double percdamp_used = 0;
  int cholesky_retries = 0;
};

// weight [out, in] (any float dtype), hessian [in, in] fp32 (2/N Σ x xᵀ). spec: per_channel or
// per_group weights of any flavour. Throws UnsupportedError for act-order with dynamic groups (its
// groups follow the permuted order and need a g_idx, which QuantizedWeight does not carry) and
// when the Hessian stays non-positive-definite after every retry.
GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const QuantSpec& spec,
                         const GptqOptions& options = {});

}  // namespace slmq
