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
};

struct TaskRun {
  std::string task;  // the requested name
  TaskResult result;
  double load_seconds = 0;  // reading data and building requests
  double run_seconds = 0;   // evaluator (model work) and scoring
  EvalStats stats;
  double requests_per_second() const {
    return run_seconds > 0 ? static_cast<double>(stats.requests) / run_seconds : 0.0;
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

// "arc_easy,mmlu" -> {"arc_easy", "mmlu"}; empty entries are ConfigErrors naming `what`.
std::vector<std::string> split_task_list(const std::string& list, const std::string& what);

}  // namespace slmq::eval
