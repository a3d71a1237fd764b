#pragma once
// Statistics of linear inputs collected through LinearInputHook: per-input-channel abs-max,
// mean |x|, min and max over all (unpadded) tokens (SmoothQuant, AWQ, llm-compressor's range),
// and GPTQ's input Hessian per linear.
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slmq/calib/hessian.h"
#include "slmq/calib/recording_linear.h"

namespace slmq {

struct ChannelStats {
  int64_t tokens = 0;
  at::Tensor abs_max;   // [in] fp32: max_t |x_tj|
  at::Tensor abs_sum;   // [in] fp64: Σ_t |x_tj|
  at::Tensor min, max;  // [in] fp32: min_t x_tj, max_t x_tj

  at::Tensor abs_mean() const;  // [in] fp32: abs_sum / tokens
  // Folds in x [..., in] (rows where token_mask == 0 are skipped).
  void add(const at::Tensor& x, const at::Tensor& token_mask);
};

struct RecorderOptions {
  bool channel_stats = true;
  bool hessian = false;
};

// A hook that accumulates ChannelStats and/or a Hessian for each named linear.
class LinearInputRecorder {
 public:
  // names: relative linear names ("self_attn.q_proj"); in_features from `layer`.
  LinearInputRecorder(DecoderLayer& layer, std::vector<std::string> names,
                      RecorderOptions options = {});
  // The hook refers to this object.
  LinearInputRecorder(const LinearInputRecorder&) = delete;
  LinearInputRecorder& operator=(const LinearInputRecorder&) = delete;
  const LinearInputHook& hook() const { return hook_; }
  const std::vector<std::string>& names() const { return names_; }
  // Throws InternalError for a name not recorded.
  const ChannelStats& stats(const std::string& name) const;
  const HessianAccumulator& hessian(const std::string& name) const;
  // Seconds spent inside the hook (statistics and Hessian updates).
  double seconds() const { return *seconds_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, ChannelStats> stats_;
  std::map<std::string, std::unique_ptr<HessianAccumulator>> hessians_;
  std::shared_ptr<double> seconds_;
  LinearInputHook hook_;
};

}  // namespace slmq
