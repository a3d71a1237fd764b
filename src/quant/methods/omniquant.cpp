#include "slmq/quant/methods/omniquant.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/omniquant/omniquant.h"
#include "slmq/quant/omniquant/options.h"

namespace slmq {
namespace {

bool trainable(QuantFlavour f) { return f == QuantFlavour::kOmniquant || f == QuantFlavour::kLlmc; }

// Layer 0's inputs [N,T,C] for every window, embedded a chunk at a time, outside autograd.
at::Tensor embed_windows(const Model& model, const CalibrationWindows& windows, int64_t chunk) {
  c10::AutoGradMode no_grad(false);
  const at::Tensor ids = windows.ids.to(model.device());
  std::vector<at::Tensor> parts;
  for (int64_t b = 0; b < ids.size(0); b += chunk)
    parts.push_back(model.embed(ids.narrow(0, b, std::min(chunk, ids.size(0) - b))));
  return at::cat(parts, 0);
}

int64_t target_bytes(const Model& model, const QuantConfig& config) {
  int64_t bytes = 0;
  for (const auto& [name, linear] : model.linears())
    if (is_quant_target(name, config)) bytes += linear->bytes();
  return bytes;
}

}  // namespace

std::optional<std::string> OmniquantMethod::unsupported_reason(
    const Model& model, const QuantConfig& config) const noexcept {
  if (auto reason = common_unsupported_reason(model, config)) return reason;
  const QuantSpec& w = config.scheme.weight;
  if (config.quantize_lm_head)
    return std::string("OmniQuant trains the decoder blocks only; use quantize_lm_head: false");
  if (!trainable(w.flavour))
    return "the weight quantizer flavour " + to_string(w.flavour) +
           " has no learnable clipping; use flavour omniquant (or llmc)";
  if (w.granularity != Granularity::kPerChannel && w.granularity != Granularity::kPerGroup)
    return "learnable weight clipping is per_channel or per_group, not " + to_string(w.granularity);
  if (const auto& a = config.scheme.activation) {
    if (!trainable(a->flavour) && a->flavour != QuantFlavour::kCompressedTensors)
      return "the activation quantizer flavour " + to_string(a->flavour) +
             " cannot be trained through; use omniquant, llmc or compressed_tensors";
    if (a->granularity != Granularity::kPerToken || !a->dynamic)
      return std::string("OmniQuant quantizes activations per token, dynamically");
  }
  const auto& o = config.options<OmniquantOptions>();
  if (o.epochs > 0 && !o.lwc && !o.let_enabled(config.scheme.activation.has_value()))
    return std::string("epochs > 0 trains nothing with lwc and let both off");
  return std::nullopt;
}

QuantReport OmniquantMethod::run(Model& model, const QuantConfig& config,
                                 const CalibrationData* calib) const {
  if (auto reason = unsupported_reason(model, config))
    throw UnsupportedError("omniquant: " + *reason);
  if (calib == nullptr || calib->windows.size() == 0)
    throw InternalError("omniquant: no calibration windows");
  const at::Tensor& mask = calib->windows.mask;
  if (mask.defined() && !mask.all().item<bool>())
    throw UnsupportedError(
        "omniquant: the calibration windows are padded; OmniQuant trains on full windows "
        "(sampling random_windows or random_documents)");
  c10::InferenceMode inference_off(false);
  const auto start = SteadyClock::now();
  QuantReport report;
  report.method = name();
  report.config = config;
  report.calibration = calib->to_json();
  report.linear_bytes_before = target_bytes(model, config);
  omniquant::Settings settings;
  settings.options = config.options<OmniquantOptions>();
  settings.scheme = config.scheme;
  settings.propagate_quantized = config.calibration.propagate_quantized;
  auto t0 = SteadyClock::now();
  const at::Tensor inputs =
      embed_windows(model, calib->windows, std::max<int64_t>(config.calibration.batch_size, 1));
  const double embed_seconds = seconds_since(t0);
  const omniquant::Result r = omniquant::quantize_blocks(model, inputs, settings);
  report.layers = r.layers;
  report.linear_bytes_after = target_bytes(model, config);
  report.details = r.to_json(settings);
  report.details["calibration_note"] =
      "OmniQuant's reference calibrates on 128 random 2048-token windows of WikiText-2 train "
      "(seed 2); slmquant's WikiText-2 file is the test split it evaluates on, so the default "
      "source is the C4 slice (random documents, seed 2). A WikiText-2 train file can be given "
      "as calibration.source with format: wikitext and sampling: random_windows.";
  report.cost.phase_seconds = {{"calibration", calib->sampling_seconds},
                               {"input_capture", embed_seconds},
                               {"fp_targets", r.fp_target_seconds - r.act_scale_seconds},
                               {"act_scales", r.act_scale_seconds},
                               {"training", r.training_seconds},
                               {"folding", r.folding_seconds},
                               {"quantized_chain", r.quant_chain_seconds}};
  report.cost.wall_seconds = calib->sampling_seconds + seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
