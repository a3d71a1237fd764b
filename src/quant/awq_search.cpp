#include "slmq/quant/awq_search.h"

#include <ATen/ATen.h>

#include <limits>

#include "slmq/core/error.h"
#include "slmq/quant/quantizer.h"
#include "slmq/quant/scale_folding.h"

namespace slmq {
namespace {

int64_t group_width(const QuantSpec& spec, int64_t in_features) {
  return spec.granularity == Granularity::kPerGroup ? spec.group_size : in_features;
}

}  // namespace

at::Tensor fake_quantize_weight(const at::Tensor& w, const QuantSpec& spec) {
  return dequantize(quantize_weight(w.to(at::kFloat), spec));
}

at::Tensor awq_ratio_scales(const at::Tensor& x_mean, int64_t index, int64_t n_grid) {
  const double ratio = static_cast<double>(index) / static_cast<double>(n_grid);
  at::Tensor s = x_mean.to(at::kFloat).pow(ratio).clamp_min(1e-4).view(-1);
  return s / (s.max() * s.min()).sqrt();
}

AwqScaleSearch awq_search_scale(const at::Tensor& x_mean,
                                const std::vector<std::unique_ptr<LinearBackend>*>& linears,
                                const QuantSpec& spec, int64_t n_grid,
                                const std::function<double()>& loss) {
  AwqScaleSearch result;
  double best = std::numeric_limits<double>::infinity();
  for (int64_t index = 0; index < n_grid; ++index) {
    const at::Tensor s = awq_ratio_scales(x_mean, index, n_grid);
    const at::Tensor row = s.view({1, -1});
    std::vector<std::unique_ptr<LinearBackend>> originals;
    for (auto* slot : linears) {
      const DenseLinear& fc = dense_linear(*slot, "an AWQ-scaled linear");
      const at::Tensor w = fake_quantize_weight(fc.weight().to(at::kFloat) * row, spec) / row;
      auto trial = std::make_unique<DenseLinear>(w.to(fc.weight().scalar_type()), fc.bias());
      originals.push_back(std::exchange(*slot, std::move(trial)));
    }
    const double l = loss();
    for (size_t i = 0; i < linears.size(); ++i) *linears[i] = std::move(originals[i]);
    result.losses.push_back(l);
    if (l < best) {
      best = l;
      result.best_index = index;
      result.scales = s;
    }
  }
  if (result.best_index < 0)
    throw InternalError("AWQ scale search: no ratio gave a finite loss (NaN in the block output)");
  return result;
}

at::Tensor awq_search_clip(const at::Tensor& w, const at::Tensor& x, const QuantSpec& spec,
                           const AwqOptions& options) {
  const int64_t out = w.size(0), in = w.size(1), g = group_width(spec, in), groups = in / g;
  at::Tensor tokens = x.reshape({-1, in}).to(at::kFloat);
  const int64_t stride = std::max<int64_t>(1, tokens.size(0) / options.n_sample_token);
  tokens = tokens.slice(0, 0, tokens.size(0), stride);
  // Partial outputs per group as batched matmuls: [groups, T, g] x [groups, g, out].
  const at::Tensor xg = tokens.view({-1, groups, g}).permute({1, 0, 2});
  const at::Tensor w3 = w.to(at::kFloat).view({out, groups, g});
  auto partial = [&](const at::Tensor& weights3) {
    return at::bmm(xg, weights3.permute({1, 2, 0}));  // [groups, T, out]
  };
  const at::Tensor org_out = partial(w3);
  const at::Tensor org_max = w3.abs().amax(-1, /*keepdim=*/true);  // [out, groups, 1]
  at::Tensor best_max = org_max.clone();
  at::Tensor min_err = at::full({out, groups, 1}, 1e9, org_max.options());
  const auto steps = static_cast<int64_t>(options.max_shrink * static_cast<double>(options.n_grid));
  for (int64_t k = 0; k < steps; ++k) {
    const at::Tensor max_val =
        org_max * (1.0 - static_cast<double>(k) / static_cast<double>(options.n_grid));
    const at::Tensor q =
        fake_quantize_weight(at::clamp(w3, -max_val, max_val).view({out, in}), spec)
            .view({out, groups, g});
    // mean over tokens of the squared error: [groups, out] -> [out, groups, 1]
    const at::Tensor err = (partial(q) - org_out).pow(2).mean(1).t().unsqueeze(-1);
    const at::Tensor better = err < min_err;
    min_err = at::where(better, err, min_err);
    best_max = at::where(better, max_val, best_max);
  }
  return best_max.squeeze(-1);
}

at::Tensor awq_apply_clip(const at::Tensor& w, const at::Tensor& max_val) {
  const int64_t out = w.size(0), groups = max_val.size(1);
  const at::Tensor m = max_val.to(w.scalar_type()).unsqueeze(-1);
  return at::clamp(w.view({out, groups, -1}), -m, m).view_as(w);
}

}  // namespace slmq
