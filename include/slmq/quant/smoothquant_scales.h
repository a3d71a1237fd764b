#pragma once
// SmoothQuant's per-channel smoothing factors (specs/quant_methods.md §2), in fp32.
#include <ATen/core/Tensor.h>

#include <vector>

#include "slmq/quant/smoothquant_options.h"

namespace slmq {

// act_stat [C]: max_t |X_tj| (kSmoothQuant) or max_t X_tj − min_t X_tj (kLlmCompressor) of the
// balance linears' common input; weights: their [out, C] matrices. Returns s [C] fp32:
//   kSmoothQuant:   w = max(max_L,i |W_ij|, 1e-5), s = max(a^α / w^(1−α), 1e-5)
//   kLlmCompressor: w = 2·max_L,i |W_ij|, s = a^α / w^(1−α) where w > 0 else a, s = max(s, 1e-5)
at::Tensor smoothquant_scales(const at::Tensor& act_stat, const std::vector<at::Tensor>& weights,
                              double alpha, SmoothVariant variant);

}  // namespace slmq
