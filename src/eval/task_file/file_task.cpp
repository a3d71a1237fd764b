// A task file as a Task: lm-eval's ConfigurableTask.construct_requests and process_results for
// the four output types, over TaskDocs.
#include <cmath>
#include <cstdlib>
#include <set>

#include "../tasks/task_support.h"
#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/py_text.h"
#include "slmq/eval/task_file.h"
#include "slmq/eval/task_filters.h"
#include "task_docs.h"

namespace slmq::eval {
namespace detail {
namespace {

using nlohmann::json;

class FileTask : public Task {
 public:
  FileTask(TaskFileConfig cfg, const TaskOptions& options) : cfg_(std::move(cfg)) {
    const auto dir = data::resolve_data_dir(options.data_dir);
    const std::string eval_split = cfg_.test_split ? *cfg_.test_split : *cfg_.validation_split;
    auto all = load_task_split(cfg_, eval_split, dir);
    if (all.empty()) throw DataError(cfg_.file.string() + ": split '" + eval_split + "' is empty");
    std::vector<std::string> columns;
    for (const auto& [k, v] : all.front().doc.items()) columns.push_back(k);
    docs_ = std::make_unique<TaskDocs>(cfg_, columns);
    docs_->set_multiple_input(cfg_.doc_to_choice.present &&
                              docs_->text(all.front()).is_number_integer());
    all.resize(apply_limit(all.size(), options));
    k_ = options.num_fewshot.value_or(cfg_.num_fewshot.value_or(0));
    if (cfg_.output_type == "loglikelihood_rolling" && k_ != 0)
      throw ConfigError(cfg_.where("output_type") + ": loglikelihood_rolling has no few-shot mode");
    build(all, dir, options.fewshot_seed);
    eval_docs_ = std::move(all);
  }

  std::string name() const override { return cfg_.task; }
  RequestType request_type() const override { return type_; }
  size_t num_docs() const override { return eval_docs_.size(); }
  const std::vector<Request>& requests() const override { return requests_; }

  TaskResult score(const std::vector<Response>& responses) const override {
    check_response_count(cfg_.task, requests_.size(), responses.size());
    TaskResult r;
    r.name = cfg_.task;
    r.version = cfg_.version;
    r.num_fewshot = k_;
    r.num_samples = eval_docs_.size();
    r.notes["task_file"] = cfg_.file.string();
    if (cfg_.output_type == "multiple_choice")
      score_choice(responses, r);
    else if (cfg_.output_type == "loglikelihood")
      score_loglikelihood(responses, r);
    else if (cfg_.output_type == "loglikelihood_rolling")
      score_rolling(responses, r);
    else
      score_generation(responses, r);
    return r;
  }

 private:
  // The few-shot pool: fewshot_split, else training, validation, test (lm-eval's fewshot_docs).
  std::vector<TaskDoc> fewshot_pool(const std::filesystem::path& dir) const {
    for (const auto* split :
         {&cfg_.fewshot_split, &cfg_.training_split, &cfg_.validation_split, &cfg_.test_split})
      if (*split) return load_task_split(cfg_, **split, dir);
    return {};
  }

  void build(const std::vector<TaskDoc>& docs, const std::filesystem::path& dir, int64_t seed) {
    std::vector<TaskDoc> pool;
    if (k_ > 0) pool = fewshot_pool(dir);
    if (static_cast<size_t>(k_) > pool.size() && k_ > 0)
      throw ConfigError(cfg_.where("num_fewshot") + ": " + std::to_string(k_) +
                        " few-shot examples asked, the few-shot split has " +
                        std::to_string(pool.size()));
    FewshotSampler sampler(pool.size(), seed);
    // lm-eval drops the eval doc from its draw when the few-shot split is the test split (both
    // unset counts as equal).
    const bool exclude = cfg_.fewshot_split == cfg_.test_split;
    type_ = cfg_.output_type == "loglikelihood_rolling" ? RequestType::kLoglikelihoodRolling
            : cfg_.output_type == "generate_until"      ? RequestType::kGenerateUntil
                                                        : RequestType::kLoglikelihood;
    for (size_t i = 0; i < docs.size(); ++i) {
      const TaskDoc& d = docs[i];
      std::string prefix = docs_->description(d);
      if (k_ > 0) {
        std::vector<size_t> picks;
        if (cfg_.sampler == "first_n") {
          for (size_t j = 0; j < static_cast<size_t>(k_); ++j) picks.push_back(j);
        } else if (exclude) {
          picks = sampler.sample(static_cast<size_t>(k_),
                                 [&](size_t j) { return pool[j].doc == d.doc; });
        } else {
          picks = sampler.sample(static_cast<size_t>(k_));
        }
        for (size_t j : picks) prefix += docs_->fewshot_turn(pool[j]);
      }
      add_requests(i, d, prefix);
    }
  }

  void add_requests(size_t i, const TaskDoc& d, const std::string& prefix) {
    Request r;
    r.type = type_;
    r.doc_index = i;
    const json target = docs_->target(d);
    if (cfg_.output_type == "multiple_choice") {
      const auto choices = docs_->choices(d);
      if (choices.empty()) throw DataError(d.where + ": no choices");
      choices_.push_back(choices);
      golds_.push_back(docs_->multiple_input() ? docs_->text(d) : target);
      std::shared_ptr<const std::string> shared;
      if (!docs_->multiple_input())
        shared = std::make_shared<const std::string>(prefix + docs_->question(d));
      for (size_t c = 0; c < choices.size(); ++c) {
        r.choice_index = c;
        if (docs_->multiple_input()) {
          r.context = std::make_shared<const std::string>(prefix + choices[c]);
          r.continuation = cfg_.target_delimiter + py_str(target);
        } else {
          r.context = shared;
          r.continuation = cfg_.target_delimiter + choices[c];
        }
        requests_.push_back(r);
      }
      return;
    }
    if (!target.is_string() && cfg_.output_type != "generate_until")
      throw DataError(d.where + ": doc_to_target gives " + py_str(target) + ", not text (" +
                      cfg_.doc_to_target.where + ")");
    if (cfg_.output_type == "loglikelihood_rolling") {
      static const auto kEmpty = std::make_shared<const std::string>();
      r.context = kEmpty;
      r.continuation = target.get<std::string>();
    } else {
      r.context = std::make_shared<const std::string>(prefix + docs_->question(d));
      if (cfg_.output_type == "loglikelihood") r.continuation = target.get<std::string>();
      r.generation.until = cfg_.until;
      r.generation.max_gen_toks = cfg_.max_gen_toks;
    }
    golds_.push_back(target);
    if (cfg_.output_type == "generate_until") choices_.push_back(docs_->choices(d));
    requests_.push_back(std::move(r));
  }

  bool wants(const std::string& metric) const {
    for (const auto& m : cfg_.metrics)
      if (m.metric == metric) return true;
    return false;
  }

  void score_choice(const std::vector<Response>& responses, TaskResult& r) const {
    std::map<std::string, std::vector<double>> values;
    size_t next = 0;
    for (size_t d = 0; d < eval_docs_.size(); ++d) {
      ItemRecord item;
      item.doc_index = d;
      item.prompt = *requests_[next].context;
      for (size_t c = 0; c < choices_[d].size(); ++c, ++next) {
        item.targets.push_back(requests_[next].continuation);
        item.loglikelihoods.push_back(responses[next].loglikelihood);
      }
      const json& g = golds_[d];
      long gold = -100;
      if (g.is_number_integer()) {
        gold = static_cast<long>(g.get<int64_t>());
        if (gold >= static_cast<long>(choices_[d].size())) gold = -100;
      } else if (g.is_string()) {
        const auto& cs = choices_[d];
        const auto it = std::find(cs.begin(), cs.end(), g.get<std::string>());
        if (it != cs.end()) gold = static_cast<long>(it - cs.begin());
      } else {
        throw UnsupportedError(eval_docs_[d].where + ": a list of gold answers (" +
                               cfg_.doc_to_target.where + ") is not supported");
      }
      const ChoiceScore s = score_choices(item.loglikelihoods, choices_[d], gold);
      item.prediction = static_cast<long>(s.pred);
      item.prediction_norm = static_cast<long>(s.pred_norm);
      item.gold = gold;
      for (const auto& m : cfg_.metrics) {
        item.metrics[m.metric] = m.metric == "acc" ? s.acc : s.acc_norm;
        values[m.metric].push_back(item.metrics[m.metric]);
      }
      r.items.push_back(std::move(item));
    }
    for (const auto& m : cfg_.metrics)
      r.metrics.push_back(
          {m.metric, "none", mean(values[m.metric]), mean_stderr(values[m.metric])});
  }

  void score_loglikelihood(const std::vector<Response>& responses, TaskResult& r) const {
    std::vector<double> ll, greedy;
    for (size_t i = 0; i < responses.size(); ++i) {
      ItemRecord item;
      item.doc_index = i;
      item.prompt = *requests_[i].context;
      item.targets = {requests_[i].continuation};
      item.loglikelihoods = {responses[i].loglikelihood};
      ll.push_back(responses[i].loglikelihood);
      greedy.push_back(responses[i].is_greedy ? 1.0 : 0.0);
      if (wants("perplexity")) item.metrics["perplexity"] = ll.back();
      if (wants("acc")) item.metrics["acc"] = greedy.back();
      r.items.push_back(std::move(item));
    }
    for (const auto& m : cfg_.metrics) {
      // lm-eval bootstraps the perplexity's stderr (random resampling): not reproduced, "N/A".
      if (m.metric == "perplexity")
        r.metrics.push_back({"perplexity", "none", std::exp(-mean(ll)), std::nullopt});
      else
        r.metrics.push_back({"acc", "none", mean(greedy), mean_stderr(greedy)});
    }
  }

  void score_rolling(const std::vector<Response>& responses, TaskResult& r) const {
    std::vector<double> ll, words, bytes;
    for (size_t i = 0; i < responses.size(); ++i) {
      const std::string& text = requests_[i].continuation;
      ll.push_back(responses[i].loglikelihood);
      words.push_back(static_cast<double>(data::py_whitespace_split_count(text)));
      bytes.push_back(static_cast<double>(text.size()));
      ItemRecord item;
      item.doc_index = i;
      item.loglikelihoods = {ll.back()};
      item.metrics = {{"words", words.back()}, {"bytes", bytes.back()}};
      r.items.push_back(std::move(item));
    }
    for (const auto& m : cfg_.metrics) {
      if (m.metric == "word_perplexity")
        r.metrics.push_back({m.metric, "none", std::exp(-weighted_mean(ll, words)), std::nullopt});
      else if (m.metric == "byte_perplexity")
        r.metrics.push_back({m.metric, "none", std::exp(-weighted_mean(ll, bytes)), std::nullopt});
      else
        r.metrics.push_back(
            {m.metric, "none", -weighted_mean(ll, bytes) / std::log(2.0), std::nullopt});
    }
  }

  void score_generation(const std::vector<Response>& responses, TaskResult& r) const {
    std::map<std::string, std::vector<double>> values;
    for (size_t i = 0; i < responses.size(); ++i) {
      ItemRecord item;
      item.doc_index = i;
      item.prompt = *requests_[i].context;
      item.targets = requests_[i].generation.until;
      item.generation = responses[i].generation;
      json gold = golds_[i];
      if (!choices_[i].empty()) {
        if (!gold.is_number_integer() || gold.get<int64_t>() < 0 ||
            gold.get<int64_t>() >= static_cast<int64_t>(choices_[i].size()))
          throw DataError(eval_docs_[i].where + ": target is not a choice index");
        gold = choices_[i][static_cast<size_t>(gold.get<int64_t>())];
      }
      if (gold.is_array())
        throw UnsupportedError(eval_docs_[i].where + ": a list of targets is not supported");
      item.gold_text = py_str(gold);
      for (const auto& f : cfg_.filters) {
        const std::string value = apply_filter(f, item.generation);
        item.filtered[f.name] = value;
        for (const auto& m : cfg_.metrics) {
          const double v = exact_match(m, value, item.gold_text);
          item.metrics[m.metric + "," + f.name] = v;
          values[m.metric + "," + f.name].push_back(v);
        }
      }
      r.items.push_back(std::move(item));
    }
    for (const auto& f : cfg_.filters)
      for (const auto& m : cfg_.metrics) {
        const auto& v = values[m.metric + "," + f.name];
        r.metrics.push_back({m.metric, f.name, mean(v), mean_stderr(v)});
      }
  }

  TaskFileConfig cfg_;
  std::unique_ptr<TaskDocs> docs_;
  std::vector<TaskDoc> eval_docs_;
  int k_ = 0;
  RequestType type_ = RequestType::kLoglikelihood;
  std::vector<Request> requests_;
  std::vector<std::vector<std::string>> choices_;  // per doc (multiple choice, generate)
  std::vector<json> golds_;                        // per doc
};

}  // namespace
}  // namespace detail

std::vector<std::filesystem::path> task_file_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("SLMQ_TASKS_DIR")) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t colon = list.find(':', start);
      const std::string entry =
          list.substr(start, colon == std::string::npos ? colon : colon - start);
      if (!entry.empty()) dirs.emplace_back(entry);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  dirs.emplace_back("tasks");
  dirs.emplace_back("configs/tasks");
  return dirs;
}

std::optional<std::filesystem::path> find_task_file(const std::string& name) {
  const std::filesystem::path p(name);
  if (p.extension() == ".yaml" || p.extension() == ".yml") {
    if (!std::filesystem::is_regular_file(p))
      throw ConfigError("task file '" + name + "' does not exist");
    return p;
  }
  if (name.find('/') != std::string::npos) return std::nullopt;
  for (const auto& dir : task_file_dirs())
    for (const char* ext : {".yaml", ".yml"})
      if (std::filesystem::is_regular_file(dir / (name + ext))) return dir / (name + ext);
  return std::nullopt;
}

std::unique_ptr<Task> make_file_task(const std::filesystem::path& file,
                                     const TaskOptions& options) {
  return std::make_unique<detail::FileTask>(detail::parse_task_file(file), options);
}

}  // namespace slmq::eval
