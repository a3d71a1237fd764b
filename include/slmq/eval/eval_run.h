#pragma once
// Runs named tasks through an Evaluator and times them: the layer `slmquant eval` and the
// `eval:` block of run configs share.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "slmq/eval/evaluator.h"
#include "slmq/eval/task.h"

namespace slmq::eval {

struct EvalRunOptions {
  std::vector<std::string> tasks;  // task_names() entries
  std::optional<int> num_fewshot;  // empty: each task's lm-eval default
  std::optional<size_t> limit;     // first N docs (per MMLU subject)
  std::filesystem::path data_dir;  // empty: resolve_data_dir()
  BosPolicy bos = BosPolicy::kTokenizerDefault;
  int64_t batch_tokens = 0;  // 0: from free memory
  // Widest group that items sharing a few-shot stem merge into (stem_merge.h); 0: no merging.
  int64_t stem_merge_width = StemMergeOptions{}.max_width;
  bool progress = true;  // progress bar (terminal) or periodic log lines on stderr
  // Resuming (eval_journal.h): each task's finished batches go to journal_dir/<task>.jsonl, and a
  // rerun with the same model_fingerprint, requests and settings continues from them. Empty: no
  // journal.
  std::filesystem::path journal_dir;
  std::string model_fingerprint;  // identifies the weights, tokenizer, dtype and device
  bool resume = true;             // false: existing journals are replaced, nothing is reused
};

struct TaskRun {
  std::string task;  // the requested name
  TaskResult result;
  double load_seconds = 0;  // reading data and building requests
  double run_seconds = 0;   // evaluator (model work) and scoring
  EvalStats stats;
  // Model seconds that earlier, interrupted runs spent on the rows taken from the journal
  // (stats.resumed_rows); run_seconds counts this run's work only.
  double resumed_seconds = 0;
  // Over this run's and the resumed part's seconds, so a resumed task reports its whole rate.
  double requests_per_second() const {
    const double seconds = run_seconds + resumed_seconds;
    return seconds > 0 ? static_cast<double>(stats.requests) / seconds : 0.0;
  }
};

// ConfigError naming `what` and listing the known tasks unless every name is one (or none given).
void validate_task_names(const std::vector<std::string>& tasks, const std::string& what);

// Validates every task name first (ConfigError listing the known ones), then runs them in order,
// calling `on_done` after each (e.g. to write results as they come).
std::vector<TaskRun> run_eval_tasks(const LanguageModel& lm, const EvalRunOptions& options,
                                    const std::function<void(const TaskRun&)>& on_done = {});

// Builds every task's requests once, reading its data files, so that a missing or malformed file
// fails (DataError naming it) before any model work such as quantization; discards them.
void check_task_data(const EvalRunOptions& options);

// The files of a model (a .gguf, or a folder's files) by absolute path, name, size and
// modification time: part of a journal's fingerprint, with how the model is computed (dtype,
// device, quantization).
std::string model_files_fingerprint(const std::filesystem::path& path);

// "arc_easy,mmlu" -> {"arc_easy", "mmlu"}; empty entries are ConfigErrors naming `what`.
std::vector<std::string> split_task_list(const std::string& list, const std::string& what);

}  // namespace slmq::eval
