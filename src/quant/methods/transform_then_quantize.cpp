#include "slmq/quant/methods/transform_then_quantize.h"

#include <c10/core/InferenceMode.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/quantize_linear.h"

namespace slmq {

QuantReport TransformThenQuantizeMethod::run(Model& model, const QuantConfig& config,
                                             const CalibrationData* calib) const {
  if (auto reason = unsupported_reason(model, config))
    throw UnsupportedError(name() + ": " + *reason);
  if (calib == nullptr || calib->windows.size() == 0)
    throw InternalError(name() + ": no calibration windows");
  c10::InferenceMode guard;
  const auto start = SteadyClock::now();
  TransformRecord transformed = transform(model, config, *calib);
  QuantReport report;
  report.method = name();
  report.config = config;
  report.calibration = calib->to_json();
  QuantizeTimings timings;
  for (auto& [linear_name, slot] : model.linears()) {
    if (!is_quant_target(linear_name, config)) continue;
    FakeQuantLinear& q =
        quantize_into_fake_quant(linear_name, *slot, model.dtype(), config, report, timings);
    finish_linear(model, linear_name, q, config);
  }
  report.details = std::move(transformed.details);
  auto& phases = report.cost.phase_seconds;
  phases.emplace_back("calibration", calib->sampling_seconds);
  phases.insert(phases.end(), transformed.phase_seconds.begin(), transformed.phase_seconds.end());
  phases.emplace_back("quantize", timings.quantize);
  phases.emplace_back("error_stats", timings.error_stats);
  report.cost.wall_seconds = calib->sampling_seconds + seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
