#pragma once
// What an evaluation leaves behind: lm-eval-style results (table, "acc,none" keys), the entries
// `slmquant report` reads (docs/result_schema.md eval.tasks), and per-item sample files.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "slmq/eval/eval_run.h"

namespace slmq::eval {

// The evaluation settings a result must carry: BOS policy, max_length, prefix token, EOS text,
// few-shot count, limit, batch budget.
nlohmann::json eval_settings_json(const LanguageModel& lm, const EvalRunOptions& options);

// lm-eval's results dict: every task, group and subtask name -> {"alias", "acc,none",
// "acc_stderr,none", ...}.
nlohmann::json lm_eval_results(const std::vector<TaskRun>& runs);

// Per task: our result tree (result_to_json), timing (load and run seconds, requests/s) and
// work counters.
nlohmann::json task_details(const std::vector<TaskRun>& runs);

// eval.tasks entries for run result files: one per task with its headline metric
// (acc_norm for arc_easy, arc_challenge, piqa, hellaswag; acc for mmlu; exact_match with the
// strict-match filter for gsm8k; word_perplexity for wikitext), per-item correctness and doc ids.
nlohmann::json run_record_tasks(const std::vector<TaskRun>& runs);

// A table like lm-eval's: Tasks | Version | Filter | n-shot | Metric | Value | Stderr, with
// groups and their categories (subtasks of MMLU are left out), then wall time and requests/s.
std::string results_table(const std::vector<TaskRun>& runs);

// Writes dir/samples_<task>.jsonl atomically: one item_to_json line per document (subtasks of a
// group in order, each line naming its task).
void write_samples(const std::filesystem::path& dir, const TaskRun& run);

}  // namespace slmq::eval
