#pragma once
// What a task asks of a language model, and what comes back, in lm-eval's three request types.
// Requests carry strings only; tokenization (and BOS policy) belongs to the evaluator.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace slmq::eval {

enum class RequestType {
  kLoglikelihood,         // log P(continuation | context), summed over continuation tokens
  kLoglikelihoodRolling,  // log P(text) over the whole text with rolling windows; context empty
  kGenerateUntil,         // greedy continuation of context, cut at the first stop string
};
const char* request_type_name(RequestType type);

struct GenerationOptions {
  std::vector<std::string> until;  // stop strings, in lm-eval's order; the evaluator adds EOS text
  int max_gen_toks = 256;
  bool greedy = true;
};

struct Request {
  RequestType type = RequestType::kLoglikelihood;
  size_t doc_index = 0;     // position of the document in the task's evaluated docs
  size_t choice_index = 0;  // lm-eval's Instance.idx (choice number for multiple choice)
  // Shared by all requests of one document (the choices of a multiple-choice item), so an
  // evaluator can recognise a common prefix by pointer and compute it once.
  std::shared_ptr<const std::string> context;
  std::string continuation;  // loglikelihood: target; rolling: the whole text; generate: unused
  GenerationOptions generation;
};

// One answer per request, in request order. Fill the field matching the request type.
struct Response {
  double loglikelihood = 0.0;  // loglikelihood and rolling (natural log)
  bool is_greedy = false;      // loglikelihood: every continuation token was the argmax
  std::string generation;      // generate_until: text after the stop-string cut
};

// HFLM's split of a loglikelihood pair (lm-eval §8.1): trailing Python whitespace of the context
// moves to the front of the continuation. Returns {context, continuation}.
std::pair<std::string, std::string> split_context_continuation(const std::string& context,
                                                               const std::string& continuation);

// HFLM's post-processing of a generation: for each stop string in order, keep the text before
// its first occurrence.
std::string truncate_at_stop(std::string text, const std::vector<std::string>& until);

}  // namespace slmq::eval
