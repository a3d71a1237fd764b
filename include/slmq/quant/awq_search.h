#pragma once
// The two searches of llm-awq (specs/quant_methods.md §4) on captured inputs: the activation-aware
// scale ratio of one group of linears (auto_scale.py _search_module_scale) and the per-group weight
// clipping of one linear (auto_clip.py auto_clip_layer). All in fp32.
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

#include "slmq/model/linear_backend.h"
#include "slmq/quant/awq_options.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

// Quantize-dequantize of w [out, in] with `spec` (AWQ's pseudo_quantize_tensor for the awq
// flavour): [out, in] fp32.
at::Tensor fake_quantize_weight(const at::Tensor& w, const QuantSpec& spec);

// Scales for ratio index k: s = clamp(x_mean^(k/n_grid), min 1e-4), s /= sqrt(max s · min s).
at::Tensor awq_ratio_scales(const at::Tensor& x_mean, int64_t index, int64_t n_grid);

struct AwqScaleSearch {
  int64_t best_index = -1;     // ratio = best_index / n_grid
  at::Tensor scales;           // [C] fp32, awq_ratio_scales(best_index)
  std::vector<double> losses;  // one per ratio index
};

// For each ratio index the dense linears in `linears` are replaced by Q(W·s)/s (then restored),
// and `loss()` reports the inspected module's mean squared output error against the original
// outputs; the lowest loss wins (the first on a tie, as the reference's strict <). x_mean: mean
// |x| per input channel [C] of the group's input. InternalError when every loss is NaN.
AwqScaleSearch awq_search_scale(const at::Tensor& x_mean,
                                const std::vector<std::unique_ptr<LinearBackend>*>& linears,
                                const QuantSpec& spec, int64_t n_grid,
                                const std::function<double()>& loss);

// The clip search of one linear: w [out, in], x [tokens, in] (its captured, already scaled
// inputs). Tokens are strided by tokens / n_sample_token (at least 1); for each (row, group) the
// candidates max|W_group|·(1 − k/n_grid), k < max_shrink·n_grid, are clamped, quantized and
// scored by the mean over tokens of the squared partial-output error; the first minimum wins.
// Returns the chosen max values [out, groups] fp32.
at::Tensor awq_search_clip(const at::Tensor& w, const at::Tensor& x, const QuantSpec& spec,
                           const AwqOptions& options);

// w clamped to ±max_val per (row, group): [out, in] in w's dtype.
at::Tensor awq_apply_clip(const at::Tensor& w, const at::Tensor& max_val);

}  // namespace slmq
