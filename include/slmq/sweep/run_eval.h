#pragma once
// The `eval:` block of a run: lm-eval-faithful tasks on the loaded (possibly quantized) model.
#include <nlohmann/json.hpp>

#include <filesystem>

#include "slmq/config/run_config.h"
#include "slmq/model/model.h"

namespace slmq {

// Returns the result file's "eval" object: "tasks" as docs/result_schema.md defines it (what
// `slmquant report` reads) plus "settings", "results" (lm-eval keys) and "details" (our result
// trees with wall seconds and requests/s per task). With log_samples, writes
// samples_dir/samples_<task>.jsonl. Finished batches are journaled in journal_dir/<task>.jsonl
// and reused by a rerun of the same config (resume = false replaces them).
nlohmann::json run_eval_block(const Model& model, const RunConfig& config,
                              const std::filesystem::path& samples_dir,
                              const std::filesystem::path& journal_dir, bool resume);

// Reads every task's data (DataError naming a missing or malformed file) without a model, so a
// run fails before it loads and quantizes anything.
void check_eval_data(const RunConfig& config);

}  // namespace slmq
