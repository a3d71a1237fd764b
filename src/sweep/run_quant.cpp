#include "slmq/sweep/run_quant.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "slmq/calib/calibration_data.h"
#include "slmq/quant/quant_method.h"

namespace slmq {

void run_quant_block(Model& model, const std::string& model_path, const QuantConfig& q,
                     nlohmann::json& result) {
  auto method = make_quant_method(q.method);
  std::optional<CalibrationData> calib;
  if (method->needs_calibration() || q.uses_calibration()) {
    calib = prepare_calibration(q.calibration, model_path);
    spdlog::info("calibration: {} windows of {} tokens from {} ({:.1f} s)", calib->windows.size(),
                 calib->windows.seqlen(), q.calibration.source, calib->sampling_seconds);
  }
  QuantReport report = method->run(model, q, calib ? &*calib : nullptr);
  if (calib) {
    // Sampling the windows is part of what quantizing costs.
    report.cost.phase_seconds.insert(report.cost.phase_seconds.begin(),
                                     {"calibration_sampling", calib->sampling_seconds});
    report.cost.wall_seconds += calib->sampling_seconds;
  }
  const nlohmann::json r = report.to_json();
  const QuantSpec& w = q.scheme.weight;
  result["quant"] = {{"method", q.method},
                     {"w_bits", w.bits},
                     {"a_bits", q.scheme.activation ? q.scheme.activation->bits : 16},
                     {"group_size", w.granularity == Granularity::kPerGroup ? w.group_size : -1},
                     {"config", r["config"]},
                     {"summary", r["summary"]}};
  for (const char* key : {"calibration", "details"}) {
    if (r.contains(key)) result["quant"][key] = r[key];
  }
  const nlohmann::json& gpu = result["environment"]["gpu"];
  result["quant_cost"] = {
      {"wall_time_s", report.cost.wall_seconds},
      {"peak_memory_mib", static_cast<double>(report.cost.peak_rss_bytes) / (1024.0 * 1024.0)},
      {"memory_kind", "process_peak_rss"},
      {"device", gpu.is_object() ? gpu.value("name", model.device().str()) : model.device().str()},
      {"phase_seconds", r["cost"]["phase_seconds"]}};
  spdlog::info("quantized with {} in {:.2f} s", q.method, report.cost.wall_seconds);
}

}  // namespace slmq
