#pragma once
// The "Wiki" token perplexity of the quantization papers (GPTQ llama_eval/opt_eval, SmoothQuant,
// AWQ): non-overlapping windows (token_windows.h), each scored on its own; per window the mean
// NLL of its seqlen-1 next-token predictions; then GPTQ's formula
//   nll_i = mean_i * seqlen,   ppl = exp(sum_i nll_i / (nsamples * seqlen)),
// i.e. exp of the mean over windows of the per-window mean NLL (every window has seqlen-1
// predictions, so this is also the mean over all predicted tokens). Log-softmax in float32 from
// the logits cast to float32; sums in float64.
//
// Not lm-eval's `wikitext` word_perplexity (document-level rolling windows, per-word
// normalisation, another text): results name this metric "wiki_token_perplexity".
#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <vector>

#include "slmq/eval/token_windows.h"
#include "slmq/model/model.h"

namespace slmq::eval {

struct TokenPerplexityResult {
  int64_t seqlen = 0;
  int64_t windows = 0;
  int64_t corpus_tokens = 0;     // the whole tokenized corpus
  int64_t tokens_evaluated = 0;  // windows * seqlen: tokens run through the model
  int64_t predictions = 0;       // windows * (seqlen - 1): tokens whose NLL counts
  double nll = 0;                // nats per predicted token (GPTQ's normalisation, see above)
  double ppl = 0;
  std::vector<double> window_nll;  // mean NLL of each window
  double seconds = 0;              // wall time of the model forwards and scoring
  double tokens_per_second = 0;    // tokens_evaluated / seconds

  nlohmann::json to_json() const;  // with the metric name and its definition
};

// GPTQ's accumulation, fed window by window.
class GptqPerplexity {
 public:
  explicit GptqPerplexity(int64_t seqlen) : seqlen_(seqlen) {}
  // Sum of the window's seqlen-1 token NLLs.
  void add_window(double nll_sum);
  // Fills seqlen, windows, tokens, nll and ppl (not timing nor corpus_tokens).
  TokenPerplexityResult result() const;

 private:
  int64_t seqlen_;
  std::vector<double> window_nll_;
};

// Per-token NLL [B,N] float32 of `labels` [B,N] under `logits` [B,N,V] float32.
at::Tensor token_nll(const at::Tensor& logits, const at::Tensor& labels);

// Scores `model` on the windows of `tokens`. Throws as check_windows.
TokenPerplexityResult token_perplexity(const Model& model, std::span<const int64_t> tokens,
                                       const WindowSpec& spec);

}  // namespace slmq::eval
