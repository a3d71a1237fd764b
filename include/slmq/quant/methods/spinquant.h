#pragma once
// SpinQuant (facebookresearch/SpinQuant; specs/quant_methods.md §7): Stage A learns R1 and a
// per-layer R2 by Cayley SGD on the quantized network (spinquant_training.h) from the training
// windows in CalibrationData::training (quant.spinquant.data: the c4 slice by default, a
// WikiText-2 train file when given); Stage B folds them, adds R3/R4 and quantizes weights with
// GPTQ (default, on the calibration windows) or RTN, SpinQuant's quantizer flavour, optional MSE
// clip search, then the activation (o_proj per head) and KV quantizers.
#include "slmq/quant/quant_method.h"

namespace slmq {

class SpinQuantMethod final : public QuantMethod {
 public:
  std::string name() const override { return "spinquant"; }
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;
  bool needs_calibration() const override { return true; }
  // quant.spinquant.data: the rotation-training windows, in CalibrationData::training.
  std::optional<CalibrationConfig> training_calibration(const QuantConfig& config) const override;
  // Throws UnsupportedError "spinquant: <reason>"; InternalError without training windows (or
  // without calibration windows for GPTQ).
  QuantReport run(Model& model, const QuantConfig& config,
                  const CalibrationData* calib) const override;
};

}  // namespace slmq
