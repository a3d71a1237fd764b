#include "slmq/quant/methods/spinquant.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/methods/quarot.h"
#include "slmq/quant/rotation/rotate_model.h"
#include "slmq/quant/rotation/rotation_options.h"
#include "slmq/quant/rotation/rotation_pipeline.h"
#include "slmq/quant/rotation/spinquant_training.h"

namespace slmq {

std::optional<CalibrationConfig> SpinQuantMethod::training_calibration(
    const QuantConfig& config) const {
  return config.options<SpinQuantOptions>().data;
}

std::optional<std::string> SpinQuantMethod::unsupported_reason(
    const Model& model, const QuantConfig& config) const noexcept {
  return rotation_unsupported_reason(model, config);
}

QuantReport SpinQuantMethod::run(Model& model, const QuantConfig& config,
                                 const CalibrationData* calib) const {
  if (auto reason = unsupported_reason(model, config))
    throw UnsupportedError("spinquant: " + *reason);
  if (calib == nullptr || !calib->training || calib->training->windows.size() == 0)
    throw InternalError("spinquant: no rotation-training windows (CalibrationData::training)");
  const auto start = SteadyClock::now();
  QuantReport report;
  report.method = name();
  report.config = config;
  report.calibration = calib->to_json();
  auto& phases = report.cost.phase_seconds;
  phases.emplace_back("calibration", calib->sampling_seconds + calib->training->sampling_seconds);
  const SpinQuantOptions& options = config.options<SpinQuantOptions>();
  const RotationOptions& rotation = options.rotation;
  auto t0 = SteadyClock::now();
  prepare_for_rotation(model, rotation.center_embeddings);
  if (rotation.r4) rotate_down_proj(model, rotation.online_fp32);
  const QuantFlavour flavour =
      config.scheme.activation ? config.scheme.activation->flavour : config.scheme.weight.flavour;
  attach_kv_quantizers(model, config.kv, flavour, config.kv.k_bits < 16);
  phases.emplace_back("prepare", seconds_since(t0));
  t0 = SteadyClock::now();
  const int64_t steps = options.steps;
  RotationTrainingResult trained =
      train_rotations(model, config, calib->training->windows, initial_rotations(model, rotation),
                      [&](int64_t step, double loss) {
                        if (step % 10 == 0 || step + 1 == steps)
                          spdlog::info("spinquant: step {}/{} loss {:.4f} ({:.1f} s)", step + 1,
                                       steps, loss, seconds_since(t0));
                      });
  const double train_s = seconds_since(t0);
  phases.emplace_back("rotation_training", train_s);
  t0 = SteadyClock::now();
  // GPTQ runs with full-precision activations and keys/values (QuaRot/SpinQuant configure those
  // quantizers after it); quantize_rotated attaches them again.
  for (int64_t i = 0; i < model.num_layers(); ++i) model.layer(i).set_attention_transform(nullptr);
  rotate_residual(model, trained.rotations.r1);
  rotate_values(model, trained.rotations.r2);
  phases.emplace_back("fold", seconds_since(t0));
  quantize_rotated(model, config, rotation.weights == "gptq" ? calib : nullptr, report);
  report.details["rotation"] = rotation_details(model, config);
  const double per_step = steps > 0 ? train_s / static_cast<double>(steps) : 0.0;
  report.details["training"] = {{"steps", steps},
                                {"seconds_per_step", per_step},
                                {"forward_backward_seconds", trained.forward_backward_seconds},
                                {"fold_seconds", trained.fold_seconds},
                                {"update_seconds", trained.update_seconds},
                                {"retractions", trained.retractions},
                                {"losses", trained.losses},
                                {"grad_norms", trained.grad_norms},
                                {"data_source", options.data.source},
                                {"windows", calib->training->windows.size()},
                                {"seqlen", calib->training->windows.seqlen()}};
  report.cost.wall_seconds =
      calib->sampling_seconds + calib->training->sampling_seconds + seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
