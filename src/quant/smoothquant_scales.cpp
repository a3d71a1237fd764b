#include "slmq/quant/smoothquant_scales.h"

#include <ATen/ATen.h>

#include "slmq/core/error.h"

namespace slmq {
namespace {

constexpr double kMinScale = 1e-5;  // both references' MINIMUM_SMOOTHING_SCALE

// max over the balance linears and their rows of |W_ij|: [C] fp32.
at::Tensor weight_absmax(const std::vector<at::Tensor>& weights) {
  std::vector<at::Tensor> rows;
  for (const auto& w : weights) rows.push_back(w.to(at::kFloat).abs().amax(0, /*keepdim=*/true));
  return std::get<0>(at::cat(rows, 0).max(0));
}

}  // namespace

at::Tensor smoothquant_scales(const at::Tensor& act_stat, const std::vector<at::Tensor>& weights,
                              double alpha, SmoothVariant variant) {
  if (weights.empty()) throw InternalError("smoothquant_scales: no balance linears");
  const at::Tensor a = act_stat.to(at::kFloat);
  at::Tensor w = weight_absmax(weights).to(a.device());
  if (w.size(0) != a.size(0))
    throw InternalError("smoothquant_scales: activation and weight channel counts differ");
  if (variant == SmoothVariant::kSmoothQuant) {
    w = w.clamp_min(kMinScale);
    return (a.pow(alpha) / w.pow(1 - alpha)).clamp_min(kMinScale);
  }
  w = 2.0 * w;
  at::Tensor s = at::where(w > 0.0, a.pow(alpha) / w.pow(1 - alpha), a);
  return at::maximum(s, at::full({1}, kMinScale, s.options()));
}

}  // namespace slmq
