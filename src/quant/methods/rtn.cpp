#include "slmq/quant/methods/rtn.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>

#include "slmq/core/error.h"
#include "slmq/quant/fake_quant_linear.h"

namespace slmq {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::optional<std::string> RtnMethod::unsupported_reason(const Model& model,
                                                         const QuantConfig& config) const noexcept {
  return common_unsupported_reason(model, config);
}

QuantReport RtnMethod::run(Model& model, const QuantConfig& config, const CalibrationData*) const {
  if (auto reason = unsupported_reason(model, config)) throw UnsupportedError("rtn: " + *reason);
  c10::InferenceMode guard;
  const auto start = Clock::now();
  QuantReport report;
  report.method = name();
  report.config = config;
  double quantize_seconds = 0, stats_seconds = 0;
  for (auto& [name, slot] : model.linears()) {
    if (!is_quant_target(name, config)) continue;
    const auto* dense = dynamic_cast<const DenseLinear*>(slot->get());
    if (dense == nullptr)
      throw InternalError("rtn: " + name + " is not dense after the support check");
    auto t0 = Clock::now();
    QuantizedWeight q = quantize_weight(dense->weight(), config.scheme.weight);
    quantize_seconds += seconds_since(t0);
    t0 = Clock::now();
    report.layers.push_back(weight_error_stats(name, dense->weight(), dequantize(q)));
    stats_seconds += seconds_since(t0);
    report.linear_bytes_before += dense->bytes();
    auto replacement = std::make_unique<FakeQuantLinear>(std::move(q), dense->bias(), model.dtype(),
                                                         config.scheme.activation);
    report.linear_bytes_after += replacement->bytes();
    *slot = std::move(replacement);
  }
  report.cost.phase_seconds = {{"quantize", quantize_seconds}, {"error_stats", stats_seconds}};
  report.cost.wall_seconds = seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
