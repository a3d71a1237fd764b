#include "slmq/eval/token_perplexity.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "slmq/core/fault_injection.h"
#include "slmq/core/progress.h"
#include "slmq/core/timing.h"

namespace slmq::eval {

nlohmann::json TokenPerplexityResult::to_json() const {
  return {{"metric", "wiki_token_perplexity"},
          {"definition",
           "GPTQ-style: exp(mean over non-overlapping seqlen-token windows of the window's mean "
           "next-token NLL); not lm-eval's wikitext word_perplexity"},
          {"ppl", ppl},
          {"nll", nll},
          {"seqlen", seqlen},
          {"windows", windows},
          {"corpus_tokens", corpus_tokens},
          {"tokens_evaluated", tokens_evaluated},
          {"predictions", predictions},
          {"seconds", seconds},
          {"tokens_per_second", tokens_per_second}};
}

void GptqPerplexity::add_window(double nll_sum) {
  window_nll_.push_back(nll_sum / static_cast<double>(seqlen_ - 1));
}

TokenPerplexityResult GptqPerplexity::result() const {
  TokenPerplexityResult r;
  r.seqlen = seqlen_;
  r.windows = static_cast<int64_t>(window_nll_.size());
  r.tokens_evaluated = r.windows * seqlen_;
  r.predictions = r.windows * (seqlen_ - 1);
  r.window_nll = window_nll_;
  double total = 0;  // GPTQ: nlls.append(loss * seqlen); exp(sum / (nsamples * seqlen))
  for (double mean : window_nll_) total += mean * static_cast<double>(seqlen_);
  r.nll = r.windows > 0 ? total / static_cast<double>(r.windows * seqlen_) : 0.0;
  r.ppl = std::exp(r.nll);
  return r;
}

at::Tensor token_nll(const at::Tensor& logits, const at::Tensor& labels) {
  return -at::log_softmax(logits, -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1);
}

namespace {

// Sums of the seqlen-1 token NLLs of each window in `ids` [B,T], head run chunk by chunk.
std::vector<double> window_nll_sums(const Model& model, const at::Tensor& ids) {
  const int64_t batch = ids.size(0), seqlen = ids.size(1);
  const at::Tensor hidden = window_hidden(model, ids);
  const at::Tensor labels = ids.to(model.device());
  const int64_t chunk = logit_chunk_positions(batch, model.config().vocab_size);
  at::Tensor sums = at::zeros({batch}, labels.options().dtype(at::kDouble));
  for (int64_t p = 0; p < seqlen - 1; p += chunk) {
    const int64_t n = std::min(chunk, seqlen - 1 - p);
    const at::Tensor nll =
        token_nll(window_logits(model, hidden, p, n), labels.narrow(1, p + 1, n));
    sums += nll.to(at::kDouble).sum(1);
  }
  const at::Tensor cpu = sums.cpu();
  return {cpu.data_ptr<double>(), cpu.data_ptr<double>() + batch};
}

}  // namespace

TokenPerplexityResult token_perplexity(const Model& model, std::span<const int64_t> tokens,
                                       const WindowSpec& spec) {
  check_windows(spec, model.config(), static_cast<int64_t>(tokens.size()));
  c10::InferenceMode guard;
  const int64_t windows = count_windows(static_cast<int64_t>(tokens.size()), spec);
  GptqPerplexity acc(spec.seqlen);
  const auto start = SteadyClock::now();
  ProgressReporter progress("token perplexity");
  progress.update(0, static_cast<size_t>(windows), "windows");
  for (int64_t w = 0; w < windows; w += spec.batch_windows) {
    const int64_t n = std::min(spec.batch_windows, windows - w);
    for (double sum : window_nll_sums(model, window_ids(tokens, spec.seqlen, w, n)))
      acc.add_window(sum);
    progress.update(static_cast<size_t>(w + n), static_cast<size_t>(windows), "windows");
    if (w == 0) fault_point("ppl");
  }
  progress.finish();
  TokenPerplexityResult r = acc.result();
  r.seconds = seconds_since(start);
  r.corpus_tokens = static_cast<int64_t>(tokens.size());
  r.tokens_per_second = r.seconds > 0 ? static_cast<double>(r.tokens_evaluated) / r.seconds : 0;
  return r;
}

}  // namespace slmq::eval
