#include "slmq/eval/kl_divergence.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"
#include "slmq/core/progress.h"
#include "slmq/core/timing.h"

namespace slmq::eval {

KlPositions parse_kl_positions(std::string_view name, std::string_view key) {
  if (name == "second-half") return KlPositions::kSecondHalf;
  if (name == "all") return KlPositions::kAll;
  throw ConfigError(fmt::format("{}: expected second-half or all, got '{}'", key, name));
}

std::string kl_positions_name(KlPositions positions) {
  return positions == KlPositions::kSecondHalf ? "second-half" : "all";
}

nlohmann::json KlDivergenceResult::to_json() const {
  nlohmann::json j = stats.to_json();
  j["metric"] = "kl_divergence";
  j["definition"] =
      "KL(P_base || P_test) per scored next-token position, float64 log-softmax over the full "
      "vocabulary; statistics as llama.cpp perplexity --kl-divergence";
  j["positions"] = kl_positions_name(positions);
  j["first_scored_logit"] = first_scored_logit;
  j["windows"] = windows;
  j["seqlen"] = test_ppl.seqlen;
  j["test_wiki_token_perplexity"] = test_ppl.to_json();
  j["base_wiki_token_perplexity"] = base_ppl.to_json();
  j["seconds"] = seconds;
  return j;
}

namespace {

// Per-position statistics of one logits chunk [B,N,V] float32 of each model, both on `device`.
struct ChunkScores {
  at::Tensor kl, nll_test, nll_base, same_top;  // [B,N]
};

ChunkScores score_chunk(const at::Tensor& base_logits, const at::Tensor& test_logits,
                        const at::Tensor& labels) {
  const at::Tensor lp_base = at::log_softmax(base_logits.to(at::kDouble), -1);
  const at::Tensor lp_test = at::log_softmax(test_logits.to(at::kDouble), -1);
  const at::Tensor index = labels.unsqueeze(-1);
  return {(lp_base.exp() * (lp_base - lp_test)).sum(-1), -lp_test.gather(-1, index).squeeze(-1),
          -lp_base.gather(-1, index).squeeze(-1), base_logits.argmax(-1) == test_logits.argmax(-1)};
}

// Scored positions of a batch of windows, [B,N] each, on the CPU.
struct BatchScores {
  std::vector<at::Tensor> kl, nll_test, nll_base, same_top;
  void append(const ChunkScores& c) {
    kl.push_back(c.kl.cpu());
    nll_test.push_back(c.nll_test.cpu());
    nll_base.push_back(c.nll_base.cpu());
    same_top.push_back(c.same_top.cpu());
  }
};

// Adds the batch's positions window by window, so KL values keep the scoring order.
void accumulate(KlAccumulator& acc, const BatchScores& s) {
  const at::Tensor kl = at::cat(s.kl, 1).contiguous(), nt = at::cat(s.nll_test, 1).contiguous(),
                   nb = at::cat(s.nll_base, 1).contiguous(),
                   top = at::cat(s.same_top, 1).contiguous();
  const auto* k = kl.data_ptr<double>();
  const auto* t = nt.data_ptr<double>();
  const auto* b = nb.data_ptr<double>();
  const auto* same = top.data_ptr<bool>();
  for (int64_t i = 0; i < kl.numel(); ++i) acc.add(k[i], t[i], b[i], same[i]);
}

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor cpu = t.to(at::kDouble).cpu().contiguous();
  return {cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel()};
}

struct Accumulators {
  KlAccumulator kl;
  GptqPerplexity ppl_test, ppl_base;
};

// Both models on one batch of windows ids [B,T]: GPTQ sums over all positions, KL statistics
// over positions >= first.
at::Tensor base_hidden(const Model& base, const at::Tensor& ids, int64_t window,
                       KlBaseCache* cache) {
  if (cache == nullptr) return window_hidden(base, ids);
  if (auto it = cache->hidden.find(window); it != cache->hidden.end()) {
    ++cache->hits;
    return it->second;
  }
  ++cache->misses;
  at::Tensor hidden = window_hidden(base, ids);
  const int64_t bytes = hidden.numel() * hidden.element_size();
  if (cache->bytes + bytes <= cache->max_bytes) {
    cache->hidden.emplace(window, hidden);
    cache->bytes += bytes;
  }
  return hidden;
}

void score_batch(const Model& base, const Model& test, const at::Tensor& ids, int64_t window,
                 int64_t first, KlBaseCache* cache, Accumulators& acc) {
  const int64_t batch = ids.size(0), seqlen = ids.size(1);
  const c10::Device device = test.device();
  const at::Tensor hidden_base = base_hidden(base, ids, window, cache);
  const at::Tensor hidden_test = window_hidden(test, ids);
  const at::Tensor labels = ids.to(device);
  const int64_t chunk = logit_chunk_positions(batch, test.config().vocab_size);
  const auto sum_options = labels.options().dtype(at::kDouble);
  at::Tensor sums_test = at::zeros({batch}, sum_options),
             sums_base = at::zeros({batch}, sum_options);
  BatchScores scores;
  for (int64_t p = 0; p < seqlen - 1; p += chunk) {
    const int64_t n = std::min(chunk, seqlen - 1 - p);
    const at::Tensor lt = window_logits(test, hidden_test, p, n);
    const at::Tensor lb = window_logits(base, hidden_base, p, n).to(device);
    const at::Tensor lab = labels.narrow(1, p + 1, n);
    sums_test += token_nll(lt, lab).to(at::kDouble).sum(1);
    sums_base += token_nll(lb, lab).to(at::kDouble).sum(1);
    const int64_t q = std::max(p, first);  // first scored position in this chunk
    if (q < p + n)
      scores.append(score_chunk(lb.narrow(1, q - p, p + n - q), lt.narrow(1, q - p, p + n - q),
                                lab.narrow(1, q - p, p + n - q)));
  }
  for (double s : to_vector(sums_test)) acc.ppl_test.add_window(s);
  for (double s : to_vector(sums_base)) acc.ppl_base.add_window(s);
  accumulate(acc.kl, scores);
}

}  // namespace

KlDivergenceResult kl_divergence(const Model& base, const Model& test,
                                 std::span<const int64_t> tokens,
                                 const KlDivergenceOptions& options) {
  const WindowSpec& spec = options.windows;
  if (base.config().vocab_size != test.config().vocab_size)
    throw ConfigError(fmt::format("--baseline: vocabulary of {} tokens, the model has {}",
                                  base.config().vocab_size, test.config().vocab_size));
  const auto num_tokens = static_cast<int64_t>(tokens.size());
  check_windows(spec, test.config(), num_tokens);
  check_windows(spec, base.config(), num_tokens);
  c10::InferenceMode guard;
  KlDivergenceResult r;
  r.positions = options.positions;
  r.first_scored_logit = options.positions == KlPositions::kSecondHalf ? spec.seqlen / 2 : 0;
  r.windows = count_windows(num_tokens, spec);
  Accumulators acc{{}, GptqPerplexity(spec.seqlen), GptqPerplexity(spec.seqlen)};
  const auto start = SteadyClock::now();
  ProgressReporter progress("perplexity + kl divergence");
  progress.update(0, static_cast<size_t>(r.windows), "windows");
  for (int64_t w = 0; w < r.windows; w += spec.batch_windows) {
    const int64_t n = std::min(spec.batch_windows, r.windows - w);
    score_batch(base, test, window_ids(tokens, spec.seqlen, w, n), w, r.first_scored_logit,
                options.base_cache, acc);
    progress.update(static_cast<size_t>(w + n), static_cast<size_t>(r.windows), "windows");
    if (w == 0) fault_point("ppl");
  }
  progress.finish();
  r.seconds = seconds_since(start);
  r.stats = acc.kl.summarize();
  const auto finish = [&](const GptqPerplexity& acc_ppl) {
    TokenPerplexityResult p = acc_ppl.result();
    p.corpus_tokens = num_tokens;
    p.seconds = r.seconds;  // the pass ran both models
    p.tokens_per_second = r.seconds > 0 ? static_cast<double>(p.tokens_evaluated) / r.seconds : 0;
    return p;
  };
  r.test_ppl = finish(acc.ppl_test);
  r.base_ppl = finish(acc.ppl_base);
  return r;
}

}  // namespace slmq::eval
