#pragma once
// Weight and activation statistics of every decoder-layer linear (`slmquant inspect`): the
// distributions the SLMQuant paper explains its results with (outlier channels per layer).
//
// Definitions (all in fp32 from the compute-dtype tensors; "median" is torch.median's, the lower
// of the two middle values for an even count):
//  * weights W [out, in]: abs_max = max |W|; channel abs-max c_j = max_i |W_ij| over each INPUT
//    channel j (the channels smoothing and rotation act on); channel_spread = max c / median c;
//    kurtosis = E[(w − mean)^4] / Var(w)^2 over all entries (Pearson; 3 for a Gaussian).
//  * activations X [tokens, in] at the linear's input over the calibration windows (padding
//    excluded): channel abs-max a_j = max_t |x_tj|; top-k channels by a_j with a_j / median a;
//    per-token max m_t = max_j |x_tj| summarised by its median, mean and max.
//  * outlier channels: those whose abs-max exceeds `outlier_factor` x the median channel abs-max
//    of the same tensor; outlier_share = their fraction of the channels.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slmq/calib/token_windows.h"
#include "slmq/model/linear_backend.h"
#include "slmq/model/model.h"

namespace slmq {

struct InspectOptions {
  int64_t top_k = 8;
  double outlier_factor = 6.0;
  int64_t batch_size = 4;  // windows per forward
  // Wrapper backends that transform their input before the wrapped linear (QuaRot's online
  // Hadamard on down_proj): `weight_of` gives the backend holding the weight (null: not dense),
  // `input_of` the input that backend sees. Set by whoever knows the wrapper types
  // (pipeline/inspect_transform.h); empty: every linear is taken as it is.
  std::function<const LinearBackend*(const LinearBackend&)> weight_of;
  std::function<at::Tensor(const LinearBackend&, const at::Tensor&)> input_of;
};

struct ChannelSummary {
  double abs_max = 0, median = 0, spread = 0, outlier_share = 0;
  std::vector<float> channel_abs_max;          // [in]
  std::vector<std::pair<int64_t, float>> top;  // (channel, abs-max), largest first
};

struct LinearInspect {
  int64_t layer = 0;
  std::string linear;  // relative name, "self_attn.q_proj"
  int64_t out_features = 0, in_features = 0;
  ChannelSummary weight;
  double weight_kurtosis = 0;
  bool has_activations = false;
  int64_t tokens = 0;
  ChannelSummary activation;
  double token_max_median = 0, token_max_mean = 0, token_max_max = 0;
};

// Statistics of one tensor's channels (values [in], any float dtype) as defined above.
ChannelSummary summarize_channels(const at::Tensor& channel_abs_max, const InspectOptions& options);

// Weight statistics of every dense linear of the decoder layers; with windows, activation
// statistics from full-model forwards over them (linears are wrapped during the forwards and put
// back; weights are not changed). Linears that are not
// dense (already quantized) are skipped for weights. InternalError when a window set is empty.
std::vector<LinearInspect> inspect_model(Model& model, const CalibrationWindows* windows,
                                         const InspectOptions& options);

// {options: {top_k, outlier_factor}, linears: [{layer, linear, out_features, in_features,
//  weight: {abs_max, median_channel_abs_max, channel_spread, kurtosis, outlier_share,
//  top_channels: [[channel, abs_max, ratio_to_median]...], channel_abs_max: [...]},
//  activation: {...same..., tokens, token_max: {median, mean, max}}}]}
nlohmann::json inspect_to_json(const std::vector<LinearInspect>& linears,
                               const InspectOptions& options);

}  // namespace slmq
