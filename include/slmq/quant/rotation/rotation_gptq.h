#pragma once
// GPTQ on a rotated model, as QuaRot's gptq_fwrd and SpinQuant's ptq.py run it (specs/
// quant_methods.md §7.3): layer by layer on captured calibration inputs with full-precision
// activations, the architecture's true-sequential groups (or all linears at once), and for a
// linear behind an online Hadamard the Hessian of the transformed input (Mᵀ H M, computed from
// the recorded one with the same transform). Linears become weight-only FakeQuantLinears.
#include "slmq/calib/calibration_data.h"
#include "slmq/quant/quant_method.h"

namespace slmq {

// Fills report.layers, bytes, details.linears and the phases capture / hessian / solve.
void quantize_rotated_gptq(Model& model, const QuantConfig& config, const CalibrationData& calib,
                           QuantReport& report);

}  // namespace slmq
