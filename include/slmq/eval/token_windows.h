#pragma once
// Non-overlapping fixed-length windows over a tokenized corpus, as GPTQ's evaluation cuts them:
// window i holds tokens [i*seqlen, (i+1)*seqlen), nsamples = tokens / seqlen, the tail that does
// not fill a window is dropped, and every window is scored on its own (no carried context).
// Shared by the token perplexity and the KL divergence.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>

#include "slmq/model/model.h"

namespace slmq::eval {

struct WindowSpec {
  int64_t seqlen = 2048;      // tokens per window
  int64_t max_windows = 0;    // score only the first N windows (0: all)
  int64_t batch_windows = 1;  // windows per forward; changes float rounding only
};

// tokens / seqlen, capped at max_windows when that is > 0.
int64_t count_windows(int64_t num_tokens, const WindowSpec& spec);

// ConfigError naming the option when seqlen < 2, seqlen exceeds the model's
// max_position_embeddings (no silent capping: a shorter window is another metric), max_windows
// < 0 or batch_windows < 1; DataError when the corpus has fewer than seqlen tokens.
void check_windows(const WindowSpec& spec, const ModelConfig& config, int64_t num_tokens);

// Windows [first, first + count) as input ids [count, seqlen] int64 on the CPU.
at::Tensor window_ids(std::span<const int64_t> tokens, int64_t seqlen, int64_t first,
                      int64_t count);

// The model's final hidden states for ids [B,T] (every decoder layer, before the final norm):
// [B,T,C] in the compute dtype on the model's device. Call inside c10::InferenceMode.
at::Tensor window_hidden(const Model& model, const at::Tensor& ids);

// Logits of positions [begin, begin + count) from window_hidden's output: [B,count,V] float32.
at::Tensor window_logits(const Model& model, const at::Tensor& hidden, int64_t begin,
                         int64_t count);

// Positions per logits chunk so that one float64 copy of [batch, chunk, vocab] stays near
// 64 MiB: the head runs chunk by chunk, and a window's full logits never exist at once.
int64_t logit_chunk_positions(int64_t batch, int64_t vocab);

}  // namespace slmq::eval
