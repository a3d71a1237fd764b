#include "slmq/pipeline/run_quant.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "slmq/calib/calibration_data.h"
#include "slmq/core/error.h"
#include "slmq/quant/embedding_quant.h"
#include "slmq/quant/kv_quant.h"

namespace slmq {

QuantReport run_quant_block(RunModel& run, const QuantConfig& q, nlohmann::json& result) {
  auto method = make_quant_method(q.method);
  // Refuse before the (possibly long) calibration sampling.
  if (auto reason = method->unsupported_reason(run.model(), q))
    throw UnsupportedError(q.method + ": " + *reason);
  if (auto reason = embedding_unsupported_reason(run.model(), q)) throw UnsupportedError(*reason);
  std::optional<CalibrationData> calib;
  // The config decides (QuantConfig::uses_calibration): a method's options may turn its
  // calibration off (QuaRot with RTN weights).
  if (q.uses_calibration()) {
    calib = prepare_method_calibration(*method, q, *run.tokenizer());
    spdlog::info("calibration: {} windows of {} tokens from {} ({:.1f} s)", calib->windows.size(),
                 calib->windows.seqlen(), q.calibration.source, calib->sampling_seconds);
  }
  QuantReport report = method->run(run.model(), q, calib ? &*calib : nullptr);
  attach_method_kv_quantizers(run.model(), q);
  report.embedding = quantize_embedding(run.model(), q);
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
                     {"granularity", to_string(w.granularity)},
                     {"kv_bits", q.kv.enabled() ? q.kv.kv_bits() : 16},
                     {"config", r["config"]},
                     {"summary", r["summary"]}};
  // As in the config: a group size exists only for per_group weights.
  if (w.granularity == Granularity::kPerGroup) result["quant"]["group_size"] = w.group_size;
  for (const char* key : {"calibration", "details", "embedding"}) {
    if (r.contains(key)) result["quant"][key] = r[key];
  }
  const nlohmann::json gpu = result.contains("environment")
                                 ? result["environment"].value("gpu", nlohmann::json())
                                 : nlohmann::json();
  const std::string device = run.model().device().str();
  result["quant_cost"] = {
      {"wall_time_s", report.cost.wall_seconds},
      {"peak_memory_mib", static_cast<double>(report.cost.peak_rss_bytes) / (1024.0 * 1024.0)},
      {"memory_kind", "process_peak_rss"},
      {"device", gpu.is_object() ? gpu.value("name", device) : device},
      {"phase_seconds", r["cost"]["phase_seconds"]}};
  spdlog::info("quantized with {} in {:.2f} s", q.method, report.cost.wall_seconds);
  return report;
}

}  // namespace slmq
