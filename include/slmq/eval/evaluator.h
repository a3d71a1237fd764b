#pragma once
// How task requests become model forwards (design; the implementation lands with the tokenizer).
//
// A Task (task.h) produces strings. The Evaluator turns them into tokens through a LanguageModel,
// runs them in batches, and returns one Response per Request in request order, so that
// Task::score sees exactly what lm-eval's HFLM would have returned.
//
// Tokenization rules the evaluator must follow (specs/lm_eval_tasks.md §8):
//  * loglikelihood: (context, continuation) = split_context_continuation(...) (request.h);
//    whole = encode(context + continuation), ctx = encode(context), cont = whole[len(ctx):];
//    the model input is (ctx + cont) without its last token, left-truncated to max_length; the
//    response is the sum of log_softmax (float32) at the last len(cont) positions, and
//    is_greedy is whether each continuation token is the argmax.
//  * loglikelihood_rolling: token_list = encode(text); windows of max_length with one token of
//    context between full windows and the last window left-extended (§8.4), the first window
//    prefixed with the prefix token (BOS if the tokenizer has one, else EOS).
//  * generate_until: context left-truncated to max_length - max_gen_toks; greedy decoding until
//    EOS, max_gen_toks, or every row contains one stop string (until + the EOS text); the text
//    is decoded without special tokens and cut with truncate_at_stop (request.h).
//  * BOS: BosPolicy::kTokenizerDefault (the default, as lm-eval >= 0.4.9.2: whatever the
//    tokenizer's add_special_tokens does, without doubling a BOS the text already starts with),
//    kAlways or kNever. The policy used is recorded in the results.
//
// Speed: requests are grouped by their shared context pointer (Request::context), so the
// choices of one multiple-choice item share one prefix; groups are sorted by descending total
// token length (lm-eval's order: longest first, so the first batch shows the memory peak),
// batched up to a token budget chosen from free device memory, right-padded, and the context
// prefix is computed once per group with the KV cache, then each continuation is scored on top
// of it. Results are scattered back to request order, so batching never changes which number
// lands where; batch composition can change float rounding only.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "slmq/eval/request.h"

namespace slmq::eval {

enum class BosPolicy { kTokenizerDefault, kAlways, kNever };

// The (tokenizer, Model) pair as the evaluator needs it. Implemented over slmq::Model and the
// tokenizer module; tests can provide a fake with a tiny vocabulary.
class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  // Text to token ids under the BOS policy; decode without special tokens for generations.
  virtual std::vector<int64_t> encode(const std::string& text, BosPolicy bos) const = 0;
  virtual std::string decode(const std::vector<int64_t>& tokens,
                             bool skip_special_tokens) const = 0;
  virtual int64_t max_length() const = 0;    // lm-eval's max_length rule (§8.3)
  virtual int64_t prefix_token() const = 0;  // rolling windows' first input token
  virtual std::string eos_text() const = 0;  // appended to generate_until stop strings
  // Summed continuation log-probabilities for token rows that share nothing (reference path):
  // inputs[i] is the full model input, score_from[i] the first position whose next-token
  // prediction counts. Returns (loglikelihood, is_greedy) per row.
  virtual std::vector<std::pair<double, bool>> score(
      const std::vector<std::vector<int64_t>>& inputs,
      const std::vector<size_t>& score_from) const = 0;
  // Greedy continuation of each prompt until `should_stop(row, generated_tokens)` or
  // max_new_tokens.
  virtual std::vector<std::vector<int64_t>> generate(
      const std::vector<std::vector<int64_t>>& prompts, int max_new_tokens,
      const std::function<bool(size_t, const std::vector<int64_t>&)>& should_stop) const = 0;
};

struct EvaluatorOptions {
  BosPolicy bos = BosPolicy::kTokenizerDefault;
  int64_t max_batch_tokens = 0;  // 0: chosen from free memory
  bool progress = true;          // progress bar on a terminal, log lines otherwise
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // One Response per request, in request order. Deterministic for a given model and options.
  virtual std::vector<Response> run(const std::vector<Request>& requests) = 0;
};

}  // namespace slmq::eval
