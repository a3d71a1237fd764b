#include "slmq/pipeline/run_result.h"

#include "slmq/core/atomic_file.h"
#include "slmq/core/dtype.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"

namespace slmq {

nlohmann::json begin_result(const RunConfig& config) {
  return {{"schema_version", kResultSchemaVersion},
          {"name", config.name},
          {"config_hash", config.hash()},
          {"config", config.to_json()},
          {"started_at", utc_timestamp()}};
}

nlohmann::json model_record(const RunModel& run, const ModelSection& section) {
  const Model& model = run.model();
  const ModelSummary summary = model.summary();
  return {{"name", section.name},
          {"family", model.config().model_type},
          {"params", summary.parameters},
          {"source", section.path},
          {"path", section.path},
          {"architecture", model.config().architecture},
          {"dtype", dtype_name(model.dtype())},
          {"device", model.device().str()},
          {"tied_embeddings", model.config().tie_word_embeddings},
          {"summary", summary.to_json()},
          {"config", model.config().to_json()},
          {"load_seconds", run.load_seconds()}};
}

void record_run(nlohmann::json& result, const std::filesystem::path& path,
                const std::function<void(nlohmann::json& result)>& blocks) {
  try {
    blocks(result);
    result["status"] = "ok";
  } catch (const Error& e) {
    result["status"] = "failed";
    result["error"] = {{"category", e.category()}, {"message", e.what()}};
    result["failed_reason"] = std::string(e.category()) + ": " + e.what();
    result["finished_at"] = utc_timestamp();
    if (!path.empty()) write_file_atomically(path, result.dump(2) + "\n");
    throw;
  }
  result["finished_at"] = utc_timestamp();
  if (!path.empty()) write_file_atomically(path, result.dump(2) + "\n");
}

}  // namespace slmq
