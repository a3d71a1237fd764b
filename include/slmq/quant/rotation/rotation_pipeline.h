#pragma once
// What QuaRot and SpinQuant share (specs/quant_methods.md §6, §7.1-7.3): support checks, the
// initial rotations, folding them into a prepared model with the online Hadamards (R3, R4),
// and Stage B — weight quantization (GPTQ on the rotated model with full-precision activations,
// or RTN, optionally with the MSE clip search), then the activation and KV quantizers.
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "slmq/calib/calibration_data.h"
#include "slmq/quant/quant_method.h"
#include "slmq/quant/quantizer.h"
#include "slmq/quant/rotation/rotation_options.h"

namespace slmq {

struct RotationMatrices {
  at::Tensor r1;               // [C, C] fp64 (fp32 for learned ones), undefined for r1: none
  std::vector<at::Tensor> r2;  // per layer [D, D], empty unless values: r2
};

// Every reason `config` (method quarot or spinquant) cannot rotate and quantize `model`: the
// architecture (residual norms), quantized linears, head counts (QuaRot's v/o form), sizes
// without a Hadamard transform (R3, R4), lm_head quantization, the KV group size, GPTQ with
// w_clip and per-group flavour limits. nullopt when it can.
std::optional<std::string> rotation_unsupported_reason(const Model& model,
                                                       const QuantConfig& config) noexcept;

// R1 per rotation.r1 and one R2 per layer (values: r2), drawn in SpinQuant's order (R1, then R2
// of layer 0, 1, ...) from a CPU generator seeded with rotation.seed.
RotationMatrices initial_rotations(const Model& model, const RotationOptions& options);

// prepare_for_rotation, R1, the value rotation (R2 or QuaRot's), R4; R3 is attached with the KV
// quantizers by quantize_rotated. Phases ("prepare", "rotate") are appended to `phases`.
void fold_rotations(Model& model, const QuantConfig& config, const RotationMatrices& rotations,
                    std::vector<std::pair<std::string, double>>& phases);

// Stage B on a rotated model: weights by GPTQ (calib required) or RTN, activation quantizers
// (o_proj's input per head for spinquant), R3 and KV quantizers. Fills `report` (layers,
// bytes, phases, details).
void quantize_rotated(Model& model, const QuantConfig& config, const CalibrationData* calib,
                      QuantReport& report);

// The activation quantizer of one linear in a rotated model: the configured one, or per token
// and head (group = head_dim) on o_proj's input for spinquant, as its ptq.py configures it.
std::optional<QuantSpec> rotated_activation_spec(const Model& model, const QuantConfig& config,
                                                 LinearRole role);

// MSE weight-clip search of QuaRot/SpinQuant's WeightQuantizer (--w_clip): per row or group,
// the shrink p = 1 − k/100 (k = 0..79) minimising Σ|Q(w) − w|^2.4. w [out, in] any float dtype.
QuantizedWeight quantize_weight_mse_clip(const at::Tensor& w, const QuantSpec& spec);

}  // namespace slmq
