// gsm8k (lm-eval tasks/gsm8k, version 3.0): 5-shot generate_until with random train exemplars
// (Python random, seed 1234), scored by exact_match after the strict-match and
// flexible-extract regex filters.
#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/datasets.h"
#include "slmq/eval/gsm8k_scoring.h"
#include "task_support.h"

namespace slmq::eval::detail {
namespace {

std::string doc_to_text(const data::Gsm8kDoc& d) { return "Question: " + d.question + "\nAnswer:"; }

class Gsm8kTask : public Task {
 public:
  explicit Gsm8kTask(const TaskOptions& options) : k_(options.num_fewshot.value_or(5)) {
    const auto dir = data::resolve_data_dir(options.data_dir);
    auto test = data::load_gsm8k(dir, "test");
    std::vector<data::Gsm8kDoc> train;
    if (k_ > 0) train = data::load_gsm8k(dir, "train");
    if (static_cast<size_t>(k_) > train.size() && k_ > 0)
      throw ConfigError("gsm8k: num_fewshot exceeds the train split");
    FewshotSampler sampler(train.size(), options.fewshot_seed);
    test.resize(apply_limit(test.size(), options));
    for (size_t i = 0; i < test.size(); ++i) {
      std::string ctx;
      for (size_t j : sampler.sample(static_cast<size_t>(k_)))
        ctx += fewshot_turn(doc_to_text(train[j]), train[j].answer);
      Request r;
      r.type = RequestType::kGenerateUntil;
      r.doc_index = i;
      r.context = std::make_shared<const std::string>(ctx + doc_to_text(test[i]));
      r.generation.until = {"Question:", "</s>", "<|im_end|>"};
      r.generation.max_gen_toks = 256;
      requests_.push_back(std::move(r));
      golds_.push_back(test[i].answer);
    }
  }

  std::string name() const override { return "gsm8k"; }
  RequestType request_type() const override { return RequestType::kGenerateUntil; }
  size_t num_docs() const override { return requests_.size(); }
  const std::vector<Request>& requests() const override { return requests_; }

  TaskResult score(const std::vector<Response>& responses) const override {
    check_response_count("gsm8k", requests_.size(), responses.size());
    TaskResult r;
    r.name = "gsm8k";
    r.version = "3.0";
    r.num_fewshot = k_;
    r.num_samples = requests_.size();
    std::vector<double> strict, flexible;
    for (size_t i = 0; i < responses.size(); ++i) {
      ItemRecord item;
      item.doc_index = i;
      item.prompt = *requests_[i].context;
      item.targets = requests_[i].generation.until;
      item.gold_text = golds_[i];
      item.generation = responses[i].generation;
      item.filtered["strict-match"] = gsm8k_strict_match(item.generation);
      item.filtered["flexible-extract"] = gsm8k_flexible_extract(item.generation);
      const double s = gsm8k_exact_match(item.filtered["strict-match"], golds_[i]);
      const double f = gsm8k_exact_match(item.filtered["flexible-extract"], golds_[i]);
      item.metrics["exact_match,strict-match"] = s;
      item.metrics["exact_match,flexible-extract"] = f;
      strict.push_back(s);
      flexible.push_back(f);
      r.items.push_back(std::move(item));
    }
    if (!strict.empty()) {
      r.metrics.push_back({"exact_match", "strict-match", mean(strict), mean_stderr(strict)});
      r.metrics.push_back(
          {"exact_match", "flexible-extract", mean(flexible), mean_stderr(flexible)});
    }
    return r;
  }

 private:
  int k_;
  std::vector<Request> requests_;
  std::vector<std::string> golds_;
};

}  // namespace

std::unique_ptr<Task> make_gsm8k_task(const TaskOptions& options) {
  return std::make_unique<Gsm8kTask>(options);
}

}  // namespace slmq::eval::detail
