#include "slmq/quant/methods/quarot.h"

#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/rotation_options.h"
#include "slmq/quant/rotation/rotation_pipeline.h"

namespace slmq {

nlohmann::json rotation_details(const Model& model, const QuantConfig& config) {
  nlohmann::json online = nlohmann::json::array();
  if (model.num_layers() > 0) {
    const DecoderLayer& layer = model.layer(0);
    for (LinearRole role : kAllLinearRoles) {
      if (const auto* w = dynamic_cast<const OnlineHadamardLinear*>(&layer.linear(role)))
        online.push_back({{"input_of", layer.linear_name(role)}, {"transform", w->describe()}});
    }
    if (const auto* t = layer.attention_transform())
      online.push_back({{"attention", t->describe()}});
  }
  const RotationOptions& rotation = rotation_options(config);
  return {{"r1", rotation.r1},
          {"values", rotation.values},
          {"r3", config.kv.k_bits < 16},
          {"r4", rotation.r4},
          {"center_embeddings", rotation.center_embeddings},
          {"tie_word_embeddings", model.config().tie_word_embeddings},
          {"online", online}};
}

std::optional<std::string> QuarotMethod::unsupported_reason(
    const Model& model, const QuantConfig& config) const noexcept {
  return rotation_unsupported_reason(model, config);
}

QuantReport QuarotMethod::run(Model& model, const QuantConfig& config,
                              const CalibrationData* calib) const {
  if (auto reason = unsupported_reason(model, config)) throw UnsupportedError("quarot: " + *reason);
  const auto start = SteadyClock::now();
  QuantReport report;
  report.method = name();
  report.config = config;
  if (calib != nullptr) report.calibration = calib->to_json();
  auto& phases = report.cost.phase_seconds;
  if (calib != nullptr) phases.emplace_back("calibration", calib->sampling_seconds);
  const RotationOptions& rotation = rotation_options(config);
  fold_rotations(model, config, initial_rotations(model, rotation), phases);
  quantize_rotated(model, config, rotation.weights == "gptq" ? calib : nullptr, report);
  report.details["rotation"] = rotation_details(model, config);
  report.cost.wall_seconds =
      (calib != nullptr ? calib->sampling_seconds : 0.0) + seconds_since(start);
  report.cost.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace slmq
