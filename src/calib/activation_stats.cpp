#include "slmq/calib/activation_stats.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"

namespace slmq {

at::Tensor ChannelStats::abs_mean() const {
  return (abs_sum / static_cast<double>(std::max<int64_t>(tokens, 1))).to(at::kFloat);
}

void ChannelStats::add(const at::Tensor& x, const at::Tensor& token_mask) {
  c10::InferenceMode guard;
  at::Tensor rows = x.reshape({-1, x.size(-1)});
  if (token_mask.defined()) rows = rows.index({token_mask.reshape({-1}).to(at::kBool)});
  if (rows.size(0) == 0) return;
  rows = rows.to(at::kFloat);
  at::Tensor a = rows.abs();
  at::Tensor batch_abs_max = std::get<0>(a.max(0));
  at::Tensor batch_abs_sum = a.sum(0, false, at::kDouble);
  at::Tensor batch_min = std::get<0>(rows.min(0)), batch_max = std::get<0>(rows.max(0));
  if (tokens == 0) {
    abs_max = batch_abs_max;
    abs_sum = batch_abs_sum;
    min = batch_min;
    max = batch_max;
  } else {
    abs_max = at::maximum(abs_max, batch_abs_max);
    abs_sum = abs_sum + batch_abs_sum;
    min = at::minimum(min, batch_min);
    max = at::maximum(max, batch_max);
  }
  tokens += rows.size(0);
}

LinearInputRecorder::LinearInputRecorder(DecoderLayer& layer, std::vector<std::string> names,
                                         RecorderOptions options)
    : names_(std::move(names)), seconds_(std::make_shared<double>(0)) {
  for (auto& [name, slot] : layer.linears()) {
    if (std::find(names_.begin(), names_.end(), name) == names_.end()) continue;
    if (options.channel_stats) stats_[name] = ChannelStats{};
    if (options.hessian)
      hessians_[name] = std::make_unique<HessianAccumulator>((*slot)->in_features());
  }
  for (const auto& name : names_) {
    if (!stats_.count(name) && !hessians_.count(name) && (options.channel_stats || options.hessian))
      throw InternalError("LinearInputRecorder: no linear '" + name + "' in the layer");
  }
  hook_ = [this](const std::string& name, const at::Tensor& x, const at::Tensor& mask) {
    const auto start = SteadyClock::now();
    if (auto it = stats_.find(name); it != stats_.end()) it->second.add(x, mask);
    if (auto it = hessians_.find(name); it != hessians_.end()) {
      // Padded positions contribute nothing; the sequence count stays B as in gptq.py.
      it->second->add_batch(mask.defined() ? x * mask.unsqueeze(-1).to(x.dtype()) : x);
    }
    *seconds_ += seconds_since(start);
  };
}

const ChannelStats& LinearInputRecorder::stats(const std::string& name) const {
  auto it = stats_.find(name);
  if (it == stats_.end()) throw InternalError("LinearInputRecorder: no statistics for " + name);
  return it->second;
}

const HessianAccumulator& LinearInputRecorder::hessian(const std::string& name) const {
  auto it = hessians_.find(name);
  if (it == hessians_.end()) throw InternalError("LinearInputRecorder: no Hessian for " + name);
  return *it->second;
}

}  // namespace slmq
