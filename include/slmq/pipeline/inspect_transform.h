#pragma once
// The function-preserving transform of a quantization method, applied alone to a dense model so
// that `slmquant inspect` can show weights and activations after it: SmoothQuant's smoothing
// (statistics over the calibration windows, scales folded into norms and linears), QuaRot's and
// SpinQuant's rotations (R1, the value rotation, R4 on down_proj's input; SpinQuant's initial
// rotations, without its Cayley training). No weight is quantized.
#include <string>

#include "slmq/calib/calibration_data.h"
#include "slmq/calib/model_inspect.h"
#include "slmq/model/model.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

// Transforms `model` in place and describes what was applied. `calib` is needed by smoothquant
// (InternalError without it). UnsupportedError for omniquant (its equivalent transforms are
// learned block by block while quantizing, so no transform exists apart from the quantized model)
// and for methods without a transform; UnsupportedError carrying the method's reason when the
// model cannot be rotated.
std::string apply_method_transform(Model& model, const QuantConfig& config,
                                   const CalibrationData* calib);

// Sets options.weight_of / input_of to look through the online-Hadamard wrappers the rotations
// leave in front of linears (R4 on down_proj): the inspected weight is the wrapped dense one and
// the inspected input the rotated input it multiplies.
void look_through_online_transforms(InspectOptions& options);

}  // namespace slmq
