// wikitext (lm-eval tasks/wikitext, wikitext-2-raw-v1 document level): one rolling-loglikelihood
// request per page over the detokenized text; word_perplexity, byte_perplexity and
// bits_per_byte aggregate the summed loglikelihoods over words and UTF-8 bytes counted on the
// original page.
#include <cmath>
#include <string>

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/py_text.h"
#include "slmq/data/wikitext.h"
#include "task_support.h"

namespace slmq::eval::detail {
namespace {

class WikitextTask : public Task {
 public:
  explicit WikitextTask(const TaskOptions& options) {
    if (options.num_fewshot.value_or(0) != 0) throw ConfigError("wikitext has no few-shot mode");
    auto pages = data::load_wikitext_pages(data::resolve_data_dir(options.data_dir));
    pages.resize(apply_limit(pages.size(), options));
    const auto empty = std::make_shared<const std::string>();
    for (size_t i = 0; i < pages.size(); ++i) {
      Request r;
      r.type = RequestType::kLoglikelihoodRolling;
      r.doc_index = i;
      r.context = empty;
      r.continuation = data::wikitext_detokenize(pages[i]);
      requests_.push_back(std::move(r));
      words_.push_back(static_cast<double>(data::py_whitespace_split_count(pages[i])));
      bytes_.push_back(static_cast<double>(pages[i].size()));
    }
  }

  std::string name() const override { return "wikitext"; }
  RequestType request_type() const override { return RequestType::kLoglikelihoodRolling; }
  size_t num_docs() const override { return requests_.size(); }
  const std::vector<Request>& requests() const override { return requests_; }

  TaskResult score(const std::vector<Response>& responses) const override {
    check_response_count("wikitext", requests_.size(), responses.size());
    TaskResult r;
    r.name = "wikitext";
    r.version = "2.0";
    r.num_samples = requests_.size();
    std::vector<double> ll;
    for (size_t i = 0; i < responses.size(); ++i) {
      ll.push_back(responses[i].loglikelihood);
      ItemRecord item;
      item.doc_index = i;
      item.loglikelihoods = {responses[i].loglikelihood};
      item.metrics = {{"words", words_[i]}, {"bytes", bytes_[i]}};
      r.items.push_back(std::move(item));
    }
    if (ll.empty()) return r;
    const double per_word = weighted_mean(ll, words_);
    const double per_byte = weighted_mean(ll, bytes_);
    r.metrics.push_back({"word_perplexity", "none", std::exp(-per_word), std::nullopt});
    r.metrics.push_back({"byte_perplexity", "none", std::exp(-per_byte), std::nullopt});
    r.metrics.push_back({"bits_per_byte", "none", -per_byte / std::log(2.0), std::nullopt});
    return r;
  }

 private:
  std::vector<Request> requests_;
  std::vector<double> words_, bytes_;
};

}  // namespace

std::unique_ptr<Task> make_wikitext_task(const TaskOptions& options) {
  return std::make_unique<WikitextTask>(options);
}

}  // namespace slmq::eval::detail
