#include "task_support.h"

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/eval/metrics.h"

namespace slmq::eval::detail {

std::vector<size_t> FewshotSampler::sample(size_t k,
                                           const std::function<bool(size_t)>& equals_eval_doc) {
  if (k == 0) return {};
  if (!equals_eval_doc) return rnd_.sample_indices(pool_size_, k);
  std::vector<size_t> kept;
  for (size_t i : rnd_.sample_indices(pool_size_, k + 1)) {
    if (!equals_eval_doc(i)) kept.push_back(i);
  }
  kept.resize(std::min(kept.size(), k));
  return kept;
}

void append_choice_requests(std::vector<Request>& out, size_t doc_index, const std::string& context,
                            const McDoc& doc) {
  auto shared = std::make_shared<const std::string>(context);
  for (size_t c = 0; c < doc.choices.size(); ++c) {
    Request r;
    r.type = RequestType::kLoglikelihood;
    r.doc_index = doc_index;
    r.choice_index = c;
    r.context = shared;
    r.continuation = " " + doc.choices[c];
    out.push_back(std::move(r));
  }
}

void check_response_count(const std::string& task, size_t requests, size_t responses) {
  if (requests != responses) {
    throw InternalError(task + ": " + std::to_string(responses) + " responses for " +
                        std::to_string(requests) + " requests");
  }
}

TaskResult score_multiple_choice(const std::string& name, const std::string& version,
                                 int num_fewshot, const std::vector<McDoc>& docs,
                                 const std::vector<Request>& requests,
                                 const std::vector<Response>& responses, size_t first,
                                 bool with_acc_norm) {
  TaskResult result;
  result.name = name;
  result.version = version;
  result.num_fewshot = num_fewshot;
  result.num_samples = docs.size();
  std::vector<double> acc, acc_norm;
  size_t next = first;
  for (size_t d = 0; d < docs.size(); ++d) {
    ItemRecord item;
    item.doc_index = d;
    item.prompt = *requests[next].context;
    for (size_t c = 0; c < docs[d].choices.size(); ++c, ++next) {
      item.targets.push_back(requests[next].continuation);
      item.loglikelihoods.push_back(responses[next].loglikelihood);
    }
    const ChoiceScore s = score_choices(item.loglikelihoods, docs[d].choices, docs[d].gold);
    item.prediction = static_cast<long>(s.pred);
    item.prediction_norm = static_cast<long>(s.pred_norm);
    item.gold = docs[d].gold;
    item.metrics["acc"] = s.acc;
    acc.push_back(s.acc);
    if (with_acc_norm) {
      item.metrics["acc_norm"] = s.acc_norm;
      acc_norm.push_back(s.acc_norm);
    }
    result.items.push_back(std::move(item));
  }
  if (!docs.empty()) {
    result.metrics.push_back({"acc", "none", mean(acc), mean_stderr(acc)});
    if (with_acc_norm)
      result.metrics.push_back({"acc_norm", "none", mean(acc_norm), mean_stderr(acc_norm)});
  }
  return result;
}

MultipleChoiceTask::MultipleChoiceTask(std::string name, std::string version, int num_fewshot,
                                       std::vector<McDoc> docs,
                                       const std::vector<std::string>& contexts, bool with_acc_norm,
                                       std::map<std::string, std::string> notes)
    : name_(std::move(name)),
      version_(std::move(version)),
      num_fewshot_(num_fewshot),
      docs_(std::move(docs)),
      with_acc_norm_(with_acc_norm),
      notes_(std::move(notes)) {
  for (size_t d = 0; d < docs_.size(); ++d)
    append_choice_requests(requests_, d, contexts[d], docs_[d]);
}

TaskResult MultipleChoiceTask::score(const std::vector<Response>& responses) const {
  check_response_count(name_, requests_.size(), responses.size());
  TaskResult r = score_multiple_choice(name_, version_, num_fewshot_, docs_, requests_, responses,
                                       0, with_acc_norm_);
  r.notes = notes_;
  return r;
}

size_t apply_limit(size_t n, const TaskOptions& options) {
  return options.limit ? std::min(n, *options.limit) : n;
}

}  // namespace slmq::eval::detail
