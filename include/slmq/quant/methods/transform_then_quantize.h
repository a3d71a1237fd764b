#pragma once
// The run shared by methods that first transform the dense model with calibration data
// (SmoothQuant's smoothing, AWQ's scales and clips) and then quantize every target linear with
// the configured quantizers: support and calibration checks, the quantize loop, and a report
// whose phases are calibration, the transform's own phases, quantize and error_stats.
#include <string>
#include <utility>
#include <vector>

#include "slmq/quant/quant_method.h"

namespace slmq {

class FakeQuantLinear;

class TransformThenQuantizeMethod : public QuantMethod {
 public:
  bool needs_calibration() const override { return true; }
  // Throws UnsupportedError "<name>: <reason>" or InternalError for missing/empty calibration.
  QuantReport run(Model& model, const QuantConfig& config,
                  const CalibrationData* calib) const final;

 protected:
  // What the transform contributes to the report.
  struct TransformRecord {
    nlohmann::json details;                                     // QuantReport::details
    std::vector<std::pair<std::string, double>> phase_seconds;  // after calibration, in order
  };

  // Transforms the dense model in place; `calib` holds at least one window.
  virtual TransformRecord transform(Model& model, const QuantConfig& config,
                                    const CalibrationData& calib) const = 0;
  // Adjusts a freshly quantized target linear (e.g. adds an output quantizer); none by default.
  virtual void finish_linear(const Model& /*model*/, const std::string& /*name*/,
                             FakeQuantLinear& /*linear*/, const QuantConfig& /*config*/) const {}
};

}  // namespace slmq
