#pragma once
// How task requests become model forwards, as lm-evaluation-harness 0.4.12's HFLM does it
// (specs/lm_eval_tasks.md §8).
//
// A Task (task.h) produces strings. The Evaluator turns them into tokens through a LanguageModel,
// runs them in batches, and returns one Response per Request in request order, so that
// Task::score sees exactly what HFLM would have returned.
//
//  * loglikelihood: (context, continuation) = split_context_continuation(...) (request.h);
//    whole = encode(context + continuation), ctx = encode(context), cont = whole[len(ctx):];
//    the row is (ctx + cont)[-(max_length+1):], its model input the row without its last token;
//    the response is the sum of float32 log_softmax over the last len(cont) positions, and
//    is_greedy whether each continuation token is the argmax. An empty context becomes
//    [prefix_token] and the continuation is encoded without special tokens.
//  * loglikelihood_rolling: token_list = encode(text); lm-eval's get_rolling_token_windows with
//    context_len 1 and make_disjoint_window (rolling_windows below); the document value is the
//    sum over its windows.
//  * generate_until: context encoded as tok_batch_encode does, left-truncated to
//    max_length - max_gen_toks; greedy decoding until EOS, max_gen_toks, or a stop string (until +
//    the EOS text) appears in the decoded last len(tokens(stop))+2 generated tokens, as HF's
//    stopping criterion checks it at batch size 1; the text is decoded without special tokens and
//    cut with truncate_at_stop.
//  * BOS (BosPolicy): kTokenizerDefault, as lm-eval >= 0.4.9.2 (add_bos_token unset): the
//    tokenizer's add_special_tokens behaviour, except that a text already starting with the
//    prefix token's text (generation: the BOS text) is encoded without special tokens; kAlways:
//    special tokens added and the BOS id prepended when the tokenizer has one and it is missing;
//    kNever: no special tokens. The policy is recorded in the results.
//
// Speed: the choices of one multiple-choice item have identical context tokens (after
// truncation); they form one ScoreGroup whose prefix the model computes once, with every
// continuation scored on top of it. Items whose contexts share a long stem (MMLU's few-shot
// examples) are merged further (stem_merge.h). Groups are sorted by descending computed length
// (lm-eval's order: longest first, so the first batch shows the memory peak) and batched up to a
// token budget (an override, else the model's estimate from free memory) while padding stays within
// LanguageModel::max_padding(). Responses are scattered back
// to request order, so batching never changes which number lands where; batch composition can
// change float rounding only. With a journal (eval_journal.h) every finished batch is recorded
// and units it already holds are not recomputed, so an interrupted run resumes.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slmq/eval/eval_journal.h"
#include "slmq/eval/request.h"
#include "slmq/eval/score_group.h"
#include "slmq/eval/stem_merge.h"

namespace slmq::eval {

enum class BosPolicy { kTokenizerDefault, kAlways, kNever };
const char* bos_policy_name(BosPolicy policy);  // "default" | "always" | "never"
// The policy bos_policy_name() names, or nullopt for any other name.
std::optional<BosPolicy> find_bos_policy(std::string_view name);
// Throws ConfigError naming `what` (e.g. "--bos") for any other name.
BosPolicy parse_bos_policy(const std::string& name, const std::string& what);

struct TokenScore {
  double loglikelihood = 0.0;  // sum of log P(token | tokens before), natural log
  bool is_greedy = true;       // every scored token was the argmax
};

// The (tokenizer, model) pair the evaluator needs. ModelLanguageModel (model_language_model.h)
// implements it over slmq::Model; tests provide fakes.
class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  // HF tokenizer encode (add_special_tokens as in transformers) and decode.
  virtual std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const = 0;
  virtual std::string decode(const std::vector<int64_t>& tokens,
                             bool skip_special_tokens) const = 0;
  virtual std::optional<int64_t> bos_token() const = 0;
  virtual std::optional<int64_t> eos_token() const = 0;
  virtual int64_t max_length() const = 0;  // lm-eval's max_length rule (§8.3)
  // Most tokens (rows x padded length) one batch of rows `length` tokens long may hold.
  virtual int64_t batch_token_budget(int64_t length) const = 0;
  // Largest share of a batch's tokens that may be padding: a CPU pays full price for padded
  // tokens, a GPU much less. 1 puts no bound.
  virtual double max_padding() const { return 1.0; }
  // One TokenScore per row of each group.
  virtual std::vector<std::vector<TokenScore>> score(
      const std::vector<ScoreGroup>& groups) const = 0;
  // Greedy continuation of each prompt: stops a row at EOS (included in its tokens), when
  // `stop_row(row, tokens so far)` is true, or after max_new_tokens.
  virtual std::vector<std::vector<int64_t>> generate(
      const std::vector<std::vector<int64_t>>& prompts, int64_t max_new_tokens,
      const std::function<bool(size_t, const std::vector<int64_t>&)>& stop_row) const = 0;

  // lm-eval's prefix_token_id: BOS if the tokenizer has one, else EOS (rolling windows and empty
  // contexts). Throws DataError when the tokenizer has neither.
  int64_t prefix_token() const;
  // lm-eval's eos text: decode([eos]) with special tokens kept; "" without an EOS token.
  std::string eos_text() const;
};

// lm-eval's tok_encode (for_generation = false) or tok_batch_encode (true) under `policy`.
std::vector<int64_t> encode_for_eval(const LanguageModel& lm, const std::string& text,
                                     BosPolicy policy, bool for_generation = false);

// lm-eval's rolling windows (get_rolling_token_windows(context_len=1) + make_disjoint_window)
// as score rows: each pair is (row tokens, score_from).
std::vector<std::pair<std::vector<int64_t>, size_t>> rolling_windows(
    const std::vector<int64_t>& tokens, int64_t prefix_token, int64_t max_length);

struct EvaluatorOptions {
  BosPolicy bos = BosPolicy::kTokenizerDefault;
  int64_t batch_tokens = 0;  // 0: LanguageModel::batch_token_budget
  // Called after each batch with (units done, units total, unit name), counting only what this
  // run computes (not units taken from the journal); may be empty.
  std::function<void(size_t, size_t, const std::string&)> progress;
  StemMergeOptions stem_merge;  // loglikelihood items sharing a long stem (stem_merge.h)
  // Where finished batches are recorded and an interrupted run's results found (may be null).
  EvalJournal* journal = nullptr;
};

// Work done by the last run().
struct EvalStats {
  size_t requests = 0;
  size_t batches = 0;
  size_t rows = 0;             // scored rows (rolling: windows) or generated sequences
  size_t computed_tokens = 0;  // input tokens the model computed (shared prefixes once)
  size_t generated_tokens = 0;
  size_t resumed_rows = 0;  // rows (or generations) taken from the journal, not computed
  // Out-of-memory back-off: batches that failed to allocate and were retried smaller, and the
  // divisor the batch token budget ended at (1: never halved).
  size_t oom_retries = 0;
  int64_t batch_token_divisor = 1;
};

class Evaluator {
 public:
  Evaluator(const LanguageModel& lm, EvaluatorOptions options);
  // One Response per request, in request order. Deterministic for a given model and options.
  // Throws DataError for a request lm-eval would reject (empty continuation tokens, a
  // generation budget not below max_length).
  std::vector<Response> run(const std::vector<Request>& requests);
  const EvalStats& stats() const { return stats_; }

 private:
  void run_loglikelihood(const std::vector<Request>& requests, const std::vector<size_t>& which,
                         std::vector<Response>& out);
  void run_rolling(const std::vector<Request>& requests, const std::vector<size_t>& which,
                   std::vector<Response>& out);
  void run_generate(const std::vector<Request>& requests, const std::vector<size_t>& which,
                    std::vector<Response>& out);
  // Scores groups in length-sorted batches; result[g][i] for row i of group g.
  // `section` names the groups in the journal.
  std::vector<std::vector<TokenScore>> score_sorted(const std::vector<ScoreGroup>& groups,
                                                    const std::string& unit,
                                                    const std::string& section);
  // Scores the journal holds for group `index` (row count checked), or nullopt.
  std::optional<std::vector<TokenScore>> journaled_scores(const std::string& section, size_t index,
                                                          size_t rows) const;
  // The batch token budget for rows of `length`, divided by the out-of-memory back-off.
  int64_t budget(int64_t length) const;
  // Runs one batch of `units` units (`tokens` padded tokens). An allocation failure
  // (c10::OutOfMemoryError, CUDA's or an injected one) halves the batch token budget for the rest
  // of the run and returns false, so that the caller rebuilds a smaller batch; a batch of one unit
  // that does not fit throws UnsupportedError naming its size.
  bool try_batch(size_t units, int64_t tokens, const std::function<void()>& run_batch);
  // One past the last group (in `order`, from `start`) of the next batch: within the token
  // budget for the first (longest) group's size and LanguageModel::max_padding().
  // `size`: each group's packed size.
  size_t batch_end(const std::vector<size_t>& size, const std::vector<size_t>& order,
                   size_t start) const;

  const LanguageModel& lm_;
  EvaluatorOptions options_;
  EvalStats stats_;
};

}  // namespace slmq::eval
