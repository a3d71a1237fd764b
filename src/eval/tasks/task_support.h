#pragma once
// Pieces shared by the task implementations (internal to src/eval).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slmq/data/python_random.h"
#include "slmq/eval/task.h"

namespace slmq::eval::detail {

// A multiple-choice document after lm-eval's doc_to_text / doc_to_choice / doc_to_target.
struct McDoc {
  std::string query;
  std::vector<std::string> choices;
  long gold = -1;
};

// One few-shot example as lm-eval renders it: text + target delimiter + answer + "\n\n".
inline std::string fewshot_turn(const std::string& text, const std::string& answer) {
  return text + " " + answer + "\n\n";
}

// lm-eval's default ContextSampler with one Random(seed) per task. With `exclude` set (tasks
// whose few-shot split equals their test split, both unset), it draws k+1, drops docs equal to
// the eval doc and keeps the first k.
class FewshotSampler {
 public:
  FewshotSampler(size_t pool_size, int64_t seed) : pool_size_(pool_size), rnd_(seed) {}
  std::vector<size_t> sample(size_t k, const std::function<bool(size_t)>& equals_eval_doc = {});

 private:
  size_t pool_size_;
  data::PyRandom rnd_;
};

// Appends one loglikelihood request per choice: (context, " " + choice).
void append_choice_requests(std::vector<Request>& out, size_t doc_index, const std::string& context,
                            const McDoc& doc);

// Scores docs [0, docs.size()) whose requests start at requests[first]: acc (and acc_norm),
// stderr, per-item records.
TaskResult score_multiple_choice(const std::string& name, const std::string& version,
                                 int num_fewshot, const std::vector<McDoc>& docs,
                                 const std::vector<Request>& requests,
                                 const std::vector<Response>& responses, size_t first,
                                 bool with_acc_norm);

// Throws InternalError unless responses match requests one to one.
void check_response_count(const std::string& task, size_t requests, size_t responses);

// A plain multiple-choice task over prepared docs and contexts.
class MultipleChoiceTask : public Task {
 public:
  MultipleChoiceTask(std::string name, std::string version, int num_fewshot,
                     std::vector<McDoc> docs, const std::vector<std::string>& contexts,
                     bool with_acc_norm, std::map<std::string, std::string> notes = {});
  std::string name() const override { return name_; }
  RequestType request_type() const override { return RequestType::kLoglikelihood; }
  size_t num_docs() const override { return docs_.size(); }
  const std::vector<Request>& requests() const override { return requests_; }
  TaskResult score(const std::vector<Response>& responses) const override;

 private:
  std::string name_, version_;
  int num_fewshot_;
  std::vector<McDoc> docs_;
  std::vector<Request> requests_;
  bool with_acc_norm_;
  std::map<std::string, std::string> notes_;
};

size_t apply_limit(size_t n, const TaskOptions& options);

std::unique_ptr<Task> make_arc_task(const std::string& name, const TaskOptions& options);
std::unique_ptr<Task> make_piqa_task(const TaskOptions& options);
std::unique_ptr<Task> make_hellaswag_task(const TaskOptions& options);
// `name`: mmlu, a category group (mmlu_stem, mmlu_other, mmlu_social_sciences, mmlu_humanities) or
// one subject (mmlu_high_school_biology), as lm-eval names them.
std::unique_ptr<Task> make_mmlu_task(const TaskOptions& options, const std::string& name);
bool is_mmlu_task_name(const std::string& name);
std::unique_ptr<Task> make_wikitext_task(const TaskOptions& options);
std::unique_ptr<Task> make_gsm8k_task(const TaskOptions& options);

}  // namespace slmq::eval::detail
