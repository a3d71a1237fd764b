#include "slmq/quant/methods/rtn.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/fake_quant_linear.h"

namespace slmq {

std::optional<std::string> RtnMethod::unsupported_reason(const Model& model,
                                                         const QuantConfig& config) const noexcept {
  return common_unsupported_reason(model, config);
}

QuantReport RtnMethod::run(Model& model, const QuantConfig& config, const CalibrationData*) const {
  if (auto reason = unsupported_reason(model, config)) throw UnsupportedError("rtn: " + *reason);
  c10::InferenceMode guard;
  const auto start = SteadyClock::now();
  QuantReport report;
  report.method = name();
  report.config = config;
  double quantize_seconds = 0, stats_seconds = 0, pack_seconds = 0;
  for (auto& [name, slot] : model.linears()) {
    if (!is_quant_target(name, config)) continue;
    const auto* dense = dynamic_cast<const DenseLinear*>(slot->get());
    if (dense == nullptr)
      throw InternalError("rtn: " + name + " is not dense after the support check");
    auto t0 = SteadyClock::now();
    QuantizedWeight q = quantize_weight(dense->weight(), config.scheme.weight);
    quantize_seconds += seconds_since(t0);
    t0 = SteadyClock::now();
    report.layers.push_back(weight_error_stats(name, dense->weight(), dequantize(q)));
    stats_seconds += seconds_since(t0);
    report.linear_bytes_before += dense->bytes();
    t0 = SteadyClock::now();
    auto replacement = std::make_unique<FakeQuantLinear>(std::move(q), dense->bias(), model.dtype(),
                                                         config.scheme.activation);
    pack_seconds += seconds_since(t0);
    report.linear_bytes_after += replacement->bytes();
    *slot = std::move(replacement);
  }
  report.cost.phase_seconds = {
      {"quantize", quantize_seconds}, {"error_stats", stats_seconds}, {"pack", pack_seconds}};
  report.cost.wall_seconds = seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
