#pragma once
// QuaRot (spcl/QuaRot fake_quant/main.py --rotate; specs/quant_methods.md §6): norms fused into
// the following linears, a random Hadamard (or random orthogonal) R1 on the residual stream,
// QuaRot's v/o Hadamards with an online cross-head Hadamard (or SpinQuant's per-layer R2 form,
// quant.quarot.values: r2, for head counts without a transform such as SmolLM2-135M's 9), R4 on
// down_proj (offline and online), R3 on queries and keys when keys are quantized; then GPTQ (or
// RTN) weights with full-precision activations, and the activation and KV quantizers. Calibration
// windows (GPTQ's) are drawn only for weights: gptq (QuarotOptions::uses_calibration).
#include "slmq/quant/quant_method.h"

namespace slmq {

class QuarotMethod final : public QuantMethod {
 public:
  std::string name() const override { return "quarot"; }
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;
  bool needs_calibration() const override { return true; }  // for GPTQ weights, the default
  // Throws UnsupportedError "quarot: <reason>"; InternalError for GPTQ without calibration.
  QuantReport run(Model& model, const QuantConfig& config,
                  const CalibrationData* calib) const override;
};

// The rotation record shared by quarot and spinquant reports: what was folded, what runs online.
nlohmann::json rotation_details(const Model& model, const QuantConfig& config);

}  // namespace slmq
