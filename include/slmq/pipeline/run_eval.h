#pragma once
// The `eval:` block of a run, and the one way slmquant evaluates a model (`slmquant run` and
// `slmquant eval` both call it): lm-eval-faithful tasks on the run's (possibly quantized) model.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

#include "slmq/config/run_config.h"
#include "slmq/eval/eval_run.h"
#include "slmq/eval/model_language_model.h"
#include "slmq/pipeline/run_model.h"

namespace slmq {

struct EvalBlockResult {
  // The result file's "eval" object: "tasks" as docs/result_schema.md defines it (what
  // `slmquant report` reads) plus "settings", "results" (lm-eval keys) and "details" (our result
  // trees with wall seconds and requests/s per task).
  nlohmann::json json;
  std::vector<eval::TaskRun> runs;  // for front ends that print lm-eval's table
};

// The run config's eval section as evaluator options (no journal: the caller sets journal_dir,
// model_fingerprint and resume). ConfigError naming eval.bos for a bad policy.
eval::EvalRunOptions eval_run_options(const EvalSection& eval);
// The language-model options the eval section sets (max_length).
eval::ModelLanguageModelOptions eval_lm_options(const EvalSection& eval);

// Evaluates run.model() with the run's tokenizer. With a non-empty `samples_dir`, writes
// samples_dir/samples_<task>.jsonl as each task finishes. Finished batches are journaled when
// options.journal_dir is set (eval_journal.h).
EvalBlockResult run_eval_block(const RunModel& run, const eval::EvalRunOptions& options,
                               const eval::ModelLanguageModelOptions& lm_options,
                               const std::filesystem::path& samples_dir);

// Reads every task's data (DataError naming a missing or malformed file) without a model, so a
// run fails before it loads and quantizes anything.
void check_eval_data(const EvalSection& eval);

}  // namespace slmq
