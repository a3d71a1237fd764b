#include "slmq/pipeline/inspect_transform.h"

#include "slmq/core/error.h"
#include "slmq/quant/methods/smoothquant.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/rotation_options.h"
#include "slmq/quant/rotation/rotation_pipeline.h"

namespace slmq {

std::string apply_method_transform(Model& model, const QuantConfig& config,
                                   const CalibrationData* calib) {
  const std::string& method = config.method;
  if (method == "smoothquant") {
    if (calib == nullptr) throw InternalError("inspect: smoothquant needs calibration windows");
    smooth_model(model, config, *calib);
    return "smoothquant smoothing (scales folded into the norms and q/k/v, gate/up inputs)";
  }
  if (method == "quarot" || method == "spinquant") {
    if (auto reason = rotation_unsupported_reason(model, config))
      throw UnsupportedError(method + ": " + *reason);
    std::vector<std::pair<std::string, double>> phases;
    fold_rotations(model, config, initial_rotations(model, rotation_options(config)), phases);
    return method == "quarot" ? "quarot rotations (R1, value rotation, R4)"
                              : "spinquant initial rotations (R1, R2, R4; before Cayley training)";
  }
  if (method == "omniquant")
    throw UnsupportedError(
        "inspect --method omniquant: OmniQuant learns its equivalent transforms block by block "
        "while quantizing; there is no transform to show apart from the quantized model");
  throw UnsupportedError("inspect --method " + method +
                         ": no function-preserving transform (smoothquant, quarot, spinquant)");
}

void look_through_online_transforms(InspectOptions& options) {
  options.weight_of = [](const LinearBackend& b) -> const LinearBackend* {
    const auto* h = dynamic_cast<const OnlineHadamardLinear*>(&b);
    return h ? &h->inner() : &b;
  };
  options.input_of = [](const LinearBackend& b, const at::Tensor& x) {
    const auto* h = dynamic_cast<const OnlineHadamardLinear*>(&b);
    return h ? h->transform_input(x) : x;
  };
}

}  // namespace slmq
