#pragma once
// The one result layout (docs/result_schema.md): what `slmquant run` writes per config and what
// `slmquant quantize`, `eval` and `ppl` write as DIR/result.json with --out. One strict-JSON
// document per run, written atomically, status "ok" or "failed" with the reason.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>

#include "slmq/config/run_config.h"
#include "slmq/pipeline/run_model.h"

namespace slmq {

// Version of the result file layout; bump when keys change meaning.
inline constexpr int kResultSchemaVersion = 1;

// schema_version, name, config_hash, config (config.to_json()) and started_at.
nlohmann::json begin_result(const RunConfig& config);

// result["model"]: the keys `slmquant report` reads (name, family, params, source) and what the
// run loaded (architecture, dtype, device, summary, config, load_seconds). After quantization,
// so that params and bytes describe the model that was evaluated.
nlohmann::json model_record(const RunModel& run, const ModelSection& model);

// Runs `blocks` on `result` and writes it to `path` atomically with status "ok" and finished_at.
// On a slmquant Error the result records status "failed", error {category, message} and
// failed_reason, then the error propagates; it is written to `path` unless `path` holds a result
// with status "ok", which is never replaced by a failure: the failure then goes to
// failure_path_for(path). While `blocks` runs, an exclusive lock on lock_path_for(path)
// (core/file_lock.h) is held: a second process on the same output throws DataError naming the path
// before computing or writing anything. An empty `path` writes and locks nothing.
// Where a failed run's record goes when `result_path` holds an ok result: RESULT.failed (not a
// .json, so `slmquant report` does not read it in place of the good result).
std::filesystem::path failure_path_for(const std::filesystem::path& result_path);

void record_run(nlohmann::json& result, const std::filesystem::path& path,
                const std::function<void(nlohmann::json& result)>& blocks);

}  // namespace slmq
