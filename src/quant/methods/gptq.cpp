#include "slmq/quant/methods/gptq.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "slmq/calib/activation_stats.h"
#include "slmq/calib/layer_capture.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/gptq.h"

namespace slmq {
namespace {

struct PhaseTimes {
  double capture = 0, hessian = 0, solve = 0, error_stats = 0;
};

// Quantizes one linear of the current layer with its Hessian and swaps in a FakeQuantLinear.
void quantize_linear(std::unique_ptr<LinearBackend>& slot, const std::string& full_name,
                     const at::Tensor& hessian, const QuantConfig& config, const Model& model,
                     QuantReport& report, PhaseTimes& times) {
  const auto* dense = dynamic_cast<const DenseLinear*>(slot.get());
  if (dense == nullptr)
    throw InternalError("gptq: " + full_name + " is not dense after the support check");
  auto t0 = SteadyClock::now();
  GptqResult r =
      gptq_quantize(dense->weight(), hessian, config.scheme.weight, config.options<GptqOptions>());
  times.solve += seconds_since(t0);
  t0 = SteadyClock::now();
  report.layers.push_back(weight_error_stats(full_name, dense->weight(), r.dequantized));
  times.error_stats += seconds_since(t0);
  report.details["linears"].push_back({{"name", full_name},
                                       {"percdamp_used", r.percdamp_used},
                                       {"cholesky_retries", r.cholesky_retries}});
  report.linear_bytes_before += dense->bytes();
  auto replacement = std::make_unique<FakeQuantLinear>(std::move(r.weight), dense->bias(),
                                                       model.dtype(), config.scheme.activation);
  report.linear_bytes_after += replacement->bytes();
  slot = std::move(replacement);
}

// Linears of one norm-led fold group read the same normalised input (q/k/v, gate/up): their
// Hessians are one tensor, accumulated once (bit-identical to accumulating it per linear, as
// llama.py does) on the group's first linear.
LinearRole input_source(const std::vector<FoldGroup>& folds, LinearRole role) {
  for (const auto& g : folds) {
    if (!g.norm) continue;
    for (LinearRole r : g.linears)
      if (r == role) return g.linears.front();
  }
  return role;
}

std::vector<LinearRole> recorded_linears(const std::vector<FoldGroup>& folds,
                                         const std::vector<LinearRole>& group) {
  std::vector<LinearRole> sources;
  for (LinearRole role : group) {
    const LinearRole src = input_source(folds, role);
    if (std::find(group.begin(), group.end(), src) == group.end())
      throw InternalError(std::string("gptq: ") + to_string(role) + " is quantized without " +
                          to_string(src));
    if (std::find(sources.begin(), sources.end(), src) == sources.end()) sources.push_back(src);
  }
  return sources;
}

std::vector<std::string> names_of(const DecoderLayer& layer, const std::vector<LinearRole>& roles) {
  std::vector<std::string> names;
  for (LinearRole role : roles) names.push_back(layer.linear_name(role));
  return names;
}

}  // namespace

std::vector<std::vector<LinearRole>> gptq_linear_groups(const Model& model, bool true_sequential) {
  if (!true_sequential)
    return {std::vector<LinearRole>(std::begin(kAllLinearRoles), std::end(kAllLinearRoles))};
  return model.arch().structure(model.config()).sequential;
}

std::optional<std::string> GptqMethod::unsupported_reason(
    const Model& model, const QuantConfig& config) const noexcept {
  if (auto reason = common_unsupported_reason(model, config)) return reason;
  const QuantSpec& w = config.scheme.weight;
  if (config.quantize_lm_head) {
    return std::string(
        "gptq quantizes the linears inside decoder layers only (as llama.py does); set "
        "quantize_lm_head: false, or quantize lm_head with rtn");
  }
  if (w.granularity == Granularity::kPerTensor)
    return std::string("gptq needs per_channel or per_group weights, not per_tensor");
  if (w.granularity == Granularity::kPerGroup && config.options<GptqOptions>().act_order &&
      !config.options<GptqOptions>().static_groups) {
    return fmt::format(
        "gptq act_order with dynamic groups (group size {}) orders groups by the permutation and "
        "needs a g_idx, which slmquant's quantized weights do not store; set static_groups: true "
        "(the nearest setting, as llm-compressor always does) or act_order: false",
        w.group_size);
  }
  return std::nullopt;
}

QuantReport GptqMethod::run(Model& model, const QuantConfig& config,
                            const CalibrationData* calib) const {
  if (auto reason = unsupported_reason(model, config)) throw UnsupportedError("gptq: " + *reason);
  if (calib == nullptr || calib->windows.size() == 0)
    throw InternalError("gptq: run without calibration windows");
  c10::InferenceMode guard;
  const auto start = SteadyClock::now();
  QuantReport report;
  report.method = name();
  report.config = config;
  report.calibration = calib->to_json();
  report.details = {{"linears", nlohmann::json::array()}};
  PhaseTimes times;
  LayerwiseCapture capture(model, calib->windows,
                           {calib->config.batch_size, calib->config.propagate_quantized});
  const auto groups = gptq_linear_groups(model, config.options<GptqOptions>().true_sequential);
  const auto folds = model.arch().structure(model.config()).folds;
  for (; !capture.done(); capture.advance()) {
    const int64_t index = capture.layer_index();
    spdlog::info("gptq: layer {}/{} ({:.1f} s)", index + 1, model.num_layers(),
                 seconds_since(start));
    DecoderLayer& layer = capture.layer();
    for (const auto& group : groups) {
      LinearInputRecorder recorder(layer, names_of(layer, recorded_linears(folds, group)),
                                   {.channel_stats = false, .hessian = true});
      capture.run(recorder.hook(), recorder.names());
      times.hessian += recorder.seconds();
      for (LinearRole role : group) {
        const std::string& source = layer.linear_name(input_source(folds, role));
        quantize_linear(layer.linear(role),
                        fmt::format("model.layers.{}.{}", index, layer.linear_name(role)),
                        recorder.hessian(source).hessian(), config, model, report, times);
      }
    }
  }
  times.capture = capture.forward_seconds() - times.hessian;
  report.cost.phase_seconds = {{"calibration", calib->sampling_seconds},
                               {"capture", times.capture},
                               {"hessian", times.hessian},
                               {"solve", times.solve},
                               {"error_stats", times.error_stats}};
  report.cost.wall_seconds = calib->sampling_seconds + seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
