#pragma once
// Round-to-nearest: every target linear's weight is quantized on its own with the configured
// quantizer (no calibration), and becomes a FakeQuantLinear with the configured dynamic
// activation quantizer, as llm-compressor's QuantizationModifier, LLMC's RTN and QuaRot's
// --w_rtn do.
#include "slmq/quant/quant_method.h"

namespace slmq {

class RtnMethod final : public QuantMethod {
 public:
  std::string name() const override { return "rtn"; }
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;
  QuantReport run(Model& model, const QuantConfig& config,
                  const CalibrationData* calib) const override;
};

}  // namespace slmq
