#pragma once
// One run: a validated RunConfig in, one strict-JSON result file out (written atomically). A
// result whose config hash matches and whose status is "ok" is not recomputed, so an interrupted
// sweep resumes where it stopped.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

#include "slmq/config/run_config.h"

namespace slmq {

// Version of the result file layout; bump when keys change meaning.
inline constexpr int kResultSchemaVersion = 1;

struct RunOptions {
  std::optional<std::filesystem::path> out_dir;  // overrides output.dir
  bool force = false;                            // recompute even when a result is up to date
};

struct RunOutcome {
  std::filesystem::path result_path;
  bool reused = false;  // an up-to-date result was found and kept
  nlohmann::json result;
};

std::filesystem::path result_path_for(const RunConfig& config, const RunOptions& options);
// Where eval.log_samples puts per-item files: <result stem>.samples/ beside the result.
std::filesystem::path samples_dir_for(const std::filesystem::path& result_path);
// <result stem>.journal beside the result file: the eval block's journals (eval_journal.h).
std::filesystem::path journal_dir_for(const std::filesystem::path& result_path);

// What the config module cannot check: the eval task names (ConfigError naming eval.tasks and
// the known tasks). run_job calls it before anything is computed or written.
void check_run_config(const RunConfig& config);

// Runs the job. On a slmquant error the result file records status "failed" with the reason,
// then the error propagates.
RunOutcome run_job(const RunConfig& config, const RunOptions& options);

}  // namespace slmq
