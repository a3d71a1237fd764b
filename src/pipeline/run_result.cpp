#include "slmq/pipeline/run_result.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "slmq/core/atomic_file.h"
#include "slmq/core/dtype.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"
#include "slmq/core/file_lock.h"
#include "slmq/io/json_file.h"

namespace slmq {
namespace {

bool holds_ok_result(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  try {
    const nlohmann::json old = read_json_file(path);
    return old.is_object() && old.value("status", "") == "ok";
  } catch (const Error&) {
    return false;  // unreadable: nothing worth keeping
  }
}

// A failure never replaces a good result (it may be hours of work, and the failure is often the
// environment's: a missing data folder, a second process): it then goes beside it.
void write_failure(const std::filesystem::path& path, const nlohmann::json& result) {
  if (!holds_ok_result(path)) {
    write_file_atomically(path, result.dump(2) + "\n");
    return;
  }
  const std::filesystem::path beside = failure_path_for(path);
  write_file_atomically(beside, result.dump(2) + "\n");
  spdlog::warn("kept the earlier ok result {}; this run's failure is recorded in {}", path.string(),
               beside.string());
}

}  // namespace

std::filesystem::path failure_path_for(const std::filesystem::path& result_path) {
  return result_path.string() + ".failed";
}

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
  // Before anything is computed: a second process on the same output stops here, writing nothing.
  std::optional<FileLock> lock;
  if (!path.empty()) {
    lock.emplace(lock_path_for(path), "'" + path.string() + "'");
    remove_stale_temporaries(path);  // a killed run's; ours to clean under the lock
  }
  try {
    blocks(result);
    result["status"] = "ok";
    fault_point("result");
  } catch (const Error& e) {
    result["status"] = "failed";
    result["error"] = {{"category", e.category()}, {"message", e.what()}};
    result["failed_reason"] = std::string(e.category()) + ": " + e.what();
    result["finished_at"] = utc_timestamp();
    if (!path.empty()) {
      try {
        write_failure(path, result);
      } catch (const Error& unwritable) {
        // The disk that refused the result may refuse its failure record too: the first error
        // is the one to report.
        spdlog::warn("the failure record was not written either: {}", unwritable.what());
      }
    }
    throw;
  }
  result["finished_at"] = utc_timestamp();
  if (!path.empty()) write_file_atomically(path, result.dump(2) + "\n");
}

}  // namespace slmq
