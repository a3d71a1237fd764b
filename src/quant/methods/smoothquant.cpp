#include "slmq/quant/methods/smoothquant.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>

#include "slmq/calib/activation_stats.h"
#include "slmq/calib/layer_capture.h"
#include "slmq/core/timing.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/scale_folding.h"
#include "slmq/quant/smoothquant_options.h"
#include "slmq/quant/smoothquant_scales.h"

namespace slmq {
namespace {

// The architecture's norm-led fold groups: the groups SmoothQuant smooths.
std::vector<FoldGroup> norm_groups(const Model& model) {
  std::vector<FoldGroup> groups;
  for (const auto& g : model.arch().structure(model.config()).folds)
    if (g.norm) groups.push_back(g);
  return groups;
}

// The linear whose recorded input stands for each group's (the reference's q_proj / gate_proj).
std::vector<std::string> recorded_names(const DecoderLayer& layer,
                                        const std::vector<FoldGroup>& groups) {
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(layer.linear_name(g.linears.front()));
  return names;
}

// Per-channel abs-max (smoothquant) or range (llm-compressor) of a balance group's input.
at::Tensor activation_stat(const ChannelStats& s, SmoothVariant variant) {
  return variant == SmoothVariant::kSmoothQuant ? s.abs_max : s.max - s.min;
}

at::Tensor smooth_group(DecoderLayer& layer, const FoldGroup& g, const ChannelStats& stats,
                        const SmoothQuantOptions& o) {
  std::vector<std::unique_ptr<LinearBackend>*> fcs;
  std::vector<at::Tensor> weights;
  for (LinearRole role : g.linears) {
    fcs.push_back(&layer.linear(role));
    weights.push_back(dense_linear(layer.linear(role), "a balance linear").weight());
  }
  at::Tensor s = smoothquant_scales(activation_stat(stats, o.variant), weights, o.alpha, o.variant);
  fold_scales_into_norm(layer, *g.norm, fcs, s);
  return s;
}

SmoothedLayer smooth_layer(DecoderLayer& layer, const std::vector<FoldGroup>& groups,
                           const LinearInputRecorder& rec, const SmoothQuantOptions& o) {
  SmoothedLayer out;
  for (const auto& g : groups)
    out.scales[g.name] = smooth_group(layer, g, rec.stats(layer.linear_name(g.linears.front())), o);
  return out;
}

// W8A8Linear's output_quant in ppl_eval.py: 8-bit symmetric per-token abs-max (Δ = max|y|/127).
QuantSpec bmm_input_quantizer() {
  QuantSpec s;
  s.bits = 8;
  s.symmetric = true;
  s.granularity = Granularity::kPerToken;
  s.flavour = QuantFlavour::kLlmc;
  return s;
}

bool is_qkv(const Model& model, const std::string& name) {
  const auto where = model.locate_linear(name);
  return where && (where->second == LinearRole::kQ || where->second == LinearRole::kK ||
                   where->second == LinearRole::kV);
}

nlohmann::json scale_range(const at::Tensor& s) {
  return {s.min().item<double>(), s.max().item<double>()};
}

}  // namespace

nlohmann::json SmoothingResult::summary() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& l : layers) {
    nlohmann::json row = nlohmann::json::object();
    for (const auto& [group, s] : l.scales) row[group] = scale_range(s);
    rows.push_back(row);
  }
  return {{"scale_min_max", rows}};
}

SmoothingResult smooth_model(Model& model, const QuantConfig& config,
                             const CalibrationData& calib) {
  c10::InferenceMode guard;
  // Next layer's inputs from the layer before smoothing: the statistics are the FP model's.
  LayerwiseCapture cap(model, calib.windows, {calib.config.batch_size, false});
  SmoothingResult result;
  const std::vector<FoldGroup> groups = norm_groups(model);
  for (; !cap.done(); cap.advance()) {
    LinearInputRecorder rec(cap.layer(), recorded_names(cap.layer(), groups));
    cap.run(rec.hook(), rec.names());
    result.statistics_seconds += rec.seconds();
    const auto t0 = SteadyClock::now();
    result.layers.push_back(
        smooth_layer(cap.layer(), groups, rec, config.options<SmoothQuantOptions>()));
    result.smoothing_seconds += seconds_since(t0);
    spdlog::debug("smoothquant: layer {}/{} smoothed", cap.layer_index() + 1, model.num_layers());
  }
  result.capture_seconds = cap.forward_seconds() - result.statistics_seconds;
  return result;
}

std::optional<std::string> SmoothQuantMethod::unsupported_reason(
    const Model& model, const QuantConfig& config) const noexcept {
  if (auto reason = common_unsupported_reason(model, config)) return reason;
  if (config.calibration.propagate_quantized) {
    return std::string(
        "SmoothQuant's statistics are the full-precision model's; use calibration propagate: "
        "original");
  }
  return std::nullopt;
}

TransformThenQuantizeMethod::TransformRecord SmoothQuantMethod::transform(
    Model& model, const QuantConfig& config, const CalibrationData& calib) const {
  const SmoothingResult smoothing = smooth_model(model, config, calib);
  return {smoothing.summary(),
          {{"capture", smoothing.capture_seconds},
           {"statistics", smoothing.statistics_seconds},
           {"smoothing", smoothing.smoothing_seconds}}};
}

void SmoothQuantMethod::finish_linear(const Model& model, const std::string& name,
                                      FakeQuantLinear& linear, const QuantConfig& config) const {
  if (config.options<SmoothQuantOptions>().quantize_bmm_input && is_qkv(model, name))
    linear.set_output_quantizer(bmm_input_quantizer());
}

}  // namespace slmq
