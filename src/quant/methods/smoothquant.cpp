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

const std::string kAttnInput = "self_attn.q_proj";  // the reference's stat for q, k, v
const std::string kMlpInput = "mlp.gate_proj";      // ... and for gate, up

// Per-channel abs-max (smoothquant) or range (llm-compressor) of a balance group's input.
at::Tensor activation_stat(const ChannelStats& s, SmoothVariant variant) {
  return variant == SmoothVariant::kSmoothQuant ? s.abs_max : s.max - s.min;
}

at::Tensor smooth_group(at::Tensor& norm, const std::vector<std::unique_ptr<LinearBackend>*>& fcs,
                        const ChannelStats& stats, const SmoothQuantOptions& o) {
  std::vector<at::Tensor> weights;
  for (auto* slot : fcs) weights.push_back(dense_linear(*slot, "a balance linear").weight());
  at::Tensor s = smoothquant_scales(activation_stat(stats, o.variant), weights, o.alpha, o.variant);
  fold_scales_into_norm(norm, fcs, s);
  return s;
}

SmoothedLayer smooth_layer(DecoderLayer& layer, const LinearInputRecorder& rec,
                           const SmoothQuantOptions& o) {
  DecoderLayerWeights& w = layer.mutable_weights();
  SmoothedLayer out;
  out.attn_scales =
      smooth_group(w.input_norm, {&w.q_proj, &w.k_proj, &w.v_proj}, rec.stats(kAttnInput), o);
  out.mlp_scales =
      smooth_group(w.post_attention_norm, {&w.gate_proj, &w.up_proj}, rec.stats(kMlpInput), o);
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

bool is_qkv(const std::string& name) {
  for (const char* suffix : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}) {
    const std::string s(suffix);
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  return false;
}

nlohmann::json scale_range(const at::Tensor& s) {
  return {s.min().item<double>(), s.max().item<double>()};
}

}  // namespace

nlohmann::json SmoothingResult::summary() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& l : layers)
    rows.push_back({{"attn", scale_range(l.attn_scales)}, {"mlp", scale_range(l.mlp_scales)}});
  return {{"scale_min_max", rows}};
}

SmoothingResult smooth_model(Model& model, const QuantConfig& config,
                             const CalibrationData& calib) {
  c10::InferenceMode guard;
  // Next layer's inputs from the layer before smoothing: the statistics are the FP model's.
  LayerwiseCapture cap(model, calib.windows, {calib.config.batch_size, false});
  SmoothingResult result;
  for (; !cap.done(); cap.advance()) {
    LinearInputRecorder rec(cap.layer(), {kAttnInput, kMlpInput});
    cap.run(rec.hook(), rec.names());
    result.statistics_seconds += rec.seconds();
    const auto t0 = SteadyClock::now();
    result.layers.push_back(smooth_layer(cap.layer(), rec, config.options<SmoothQuantOptions>()));
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

void SmoothQuantMethod::finish_linear(const std::string& name, FakeQuantLinear& linear,
                                      const QuantConfig& config) const {
  if (config.options<SmoothQuantOptions>().quantize_bmm_input && is_qkv(name))
    linear.set_output_quantizer(bmm_input_quantizer());
}

}  // namespace slmq
