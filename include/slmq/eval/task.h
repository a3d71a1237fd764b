#pragma once
// Benchmark tasks as lm-evaluation-harness 0.4.12 defines them (specs/lm_eval_tasks.md): a task
// loads its documents, states the requests a model must answer, and turns the answers into
// metrics. Tasks never print, write files or touch a model; an Evaluator runs the requests.
//
//   auto task = make_task("arc_easy", {.data_dir = "assets/data", .limit = 50});
//   const auto& reqs = task->requests();           // doc-major, choice-minor order
//   std::vector<Response> resp = evaluator.run(reqs);
//   TaskResult r = task->score(resp);               // r.metrics: acc, acc_norm with stderr
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slmq/eval/metrics.h"
#include "slmq/eval/request.h"

namespace slmq::eval {

struct TaskOptions {
  std::filesystem::path data_dir;  // empty: resolve_data_dir() (SLMQ_DATA_DIR, assets/data)
  std::optional<int> num_fewshot;  // empty: the task's lm-eval default (0; gsm8k 5)
  std::optional<size_t> limit;     // evaluate the first N docs (per MMLU subject)
  int64_t fewshot_seed = 1234;     // lm-eval's fewshot_random_seed
};

// One evaluated document, like a line of lm-eval's --log_samples.
struct ItemRecord {
  size_t doc_index = 0;
  std::string prompt;                           // the context string
  std::vector<std::string> targets;             // continuations (multiple choice) or stop strings
  std::vector<double> loglikelihoods;           // per choice; rolling: one total
  long prediction = -1;                         // argmax choice (multiple choice)
  long prediction_norm = -1;                    // argmax of length-normalised loglikelihoods
  long gold = -1;                               // gold choice index (multiple choice)
  std::string gold_text;                        // gsm8k: the reference answer
  std::string generation;                       // generate_until: raw response
  std::map<std::string, std::string> filtered;  // filter name -> extracted answer
  std::map<std::string, double>
      metrics;  // per-item metric values ("acc", "exact_match,strict-match")
};

struct TaskResult {
  std::string name;     // lm-eval name: "arc_easy", "mmlu", "mmlu_stem", "mmlu_anatomy"
  std::string version;  // lm-eval task/group version
  int num_fewshot = 0;
  size_t num_samples = 0;
  std::vector<MetricValue> metrics;
  std::vector<ItemRecord> items;             // empty for groups
  std::vector<TaskResult> children;          // groups: categories and subtasks
  std::map<std::string, std::string> notes;  // e.g. data layout and preprocessing convention

  const MetricValue* metric(const std::string& name, const std::string& filter = "none") const;
  // Depth-first search by name among this result and its children; nullptr when absent.
  const TaskResult* find(const std::string& task_name) const;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual RequestType request_type() const = 0;
  virtual size_t num_docs() const = 0;  // evaluated docs after --limit
  // All requests, doc-major; stable for the life of the task.
  virtual const std::vector<Request>& requests() const = 0;
  // One response per request, in the same order. Throws InternalError on a count mismatch.
  virtual TaskResult score(const std::vector<Response>& responses) const = 0;
};

// Task names: arc_easy, arc_challenge, piqa, hellaswag, mmlu (and its parts), wikitext, gsm8k.
// Loads the data now (DataError on missing/malformed files); ConfigError on an unknown name or a
// few-shot count the task's data cannot supply.
std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& options);
std::vector<std::string> task_names();
// task_names() and lm-eval's names for parts of a group: the MMLU categories (mmlu_stem,
// mmlu_other, mmlu_social_sciences, mmlu_humanities) and subjects (mmlu_high_school_biology ...).
bool is_task_name(const std::string& name);
// lm-eval's tags that stand for several tasks replaced by them (ai2_arc -> arc_easy,
// arc_challenge); repeats dropped, order kept.
std::vector<std::string> expand_task_groups(const std::vector<std::string>& names);

}  // namespace slmq::eval
