#pragma once
// KL divergence of a model's next-token distributions against a baseline model's, as llama.cpp's
// `llama-perplexity --kl-divergence` measures quantization damage: over the same windows of the
// same tokens (token_windows.h), per scored position KL(P_base || P_test) =
// sum_v p_base(v) (log p_base(v) - log p_test(v)), with statistics as kl_statistics.h.
//
// Differences from llama.cpp, on purpose: both distributions are exact float64 log-softmax of the
// float32-cast logits over the full vocabulary (llama.cpp stores the base log-probs as uint16
// and drops terms with log p_base <= -16); windows are the perplexity's windows (default 2048
// tokens, llama.cpp's default context is 512) and keep their first token (llama.cpp overwrites
// each chunk's first token with BOS when the vocabulary adds BOS).
//
// Streaming: both models run window by window and the head chunk by chunk; only one float64 KL
// value per scored position is kept. The same pass yields both models' GPTQ-style perplexity
// over all positions of the windows (token_perplexity.h).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "slmq/eval/kl_statistics.h"
#include "slmq/eval/token_perplexity.h"
#include "slmq/eval/token_windows.h"
#include "slmq/model/model.h"

namespace slmq::eval {

// Which predictions of a window count: llama.cpp's second half (logits at positions
// seqlen/2 .. seqlen-2, so every scored token has at least seqlen/2 tokens of context) or all
// seqlen-1.
enum class KlPositions { kSecondHalf, kAll };

// "second-half" | "all"; ConfigError naming `key` otherwise.
KlPositions parse_kl_positions(std::string_view name, std::string_view key);
std::string kl_positions_name(KlPositions positions);

// The base model's final hidden states (window_hidden) of each batch of windows, by the index of
// its first window: [B,T,C] in the base model's dtype, on its device. The base model does not
// change between calls, so a caller scoring several test models against one base on the same
// tokens and windows (a sweep) computes each batch once. Batches are stored while `bytes` stays
// within `max_bytes`; later ones are recomputed.
struct KlBaseCache {
  std::map<int64_t, at::Tensor> hidden;
  int64_t bytes = 0;
  int64_t max_bytes = int64_t{2} << 30;
  int64_t hits = 0, misses = 0;
};

struct KlDivergenceOptions {
  WindowSpec windows;
  KlPositions positions = KlPositions::kSecondHalf;
  // Null: the base model runs on every window. Only for the same base model, tokens, seqlen and
  // batch_windows as the calls that filled it (the caller keys it).
  KlBaseCache* base_cache = nullptr;
};

struct KlDivergenceResult {
  KlPositions positions = KlPositions::kSecondHalf;
  int64_t first_scored_logit = 0;  // position of the first scored logit in each window
  int64_t windows = 0;
  KlStatistics stats;
  TokenPerplexityResult test_ppl;  // GPTQ-style, all positions of the same windows
  TokenPerplexityResult base_ppl;
  double seconds = 0;  // both models' forwards and all scoring

  nlohmann::json to_json() const;
};

// ConfigError when the two vocabularies differ; otherwise throws as check_windows. `base` and
// `test` may differ in dtype and device (test's device does the scoring).
KlDivergenceResult kl_divergence(const Model& base, const Model& test,
                                 std::span<const int64_t> tokens,
                                 const KlDivergenceOptions& options);

}  // namespace slmq::eval
