#pragma once
// Greedy decoding with the KV cache over a batch of prompts of different lengths (left-padded,
// as transformers' generate() pads for decoder-only models).
#include <cstdint>
#include <functional>
#include <vector>

#include "slmq/model/model.h"

namespace slmq {

struct GenerateOptions {
  int64_t max_new_tokens = 32;
  bool stop_at_eos = true;  // false: always produce max_new_tokens (speed measurements)
  // Called after every step with each row's tokens so far (for streaming output).
  std::function<void(const std::vector<std::vector<int64_t>>& tokens)> on_step;
  // Optional: called after every step for each unfinished row with its new tokens so far; true
  // finishes the row as EOS would (lm-eval's stop strings). Decoding ends when all rows finished.
  std::function<bool(size_t row, const std::vector<int64_t>& tokens)> stop_row;
  // Decode steps through the tensor-free DecodeLoop where the model has one (model/
  // decode_loop.h); false, or SLMQ_DECODE_LOOP=0 in the environment, runs Model::forward.
  bool decode_loop = true;
};

struct GenerateResult {
  // Per prompt, the new tokens; after a row's EOS, the pad token fills it until all rows stop
  // (finished rows are no longer computed once a quarter of the batch has finished).
  std::vector<std::vector<int64_t>> tokens;
  int64_t prompt_tokens = 0;     // real (unpadded) prompt tokens over all rows
  int64_t generated_tokens = 0;  // decode steps × rows
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

// Throws ConfigError for an empty prompt or a token id outside the vocabulary.
GenerateResult greedy_generate(const Model& model, const std::vector<std::vector<int64_t>>& prompts,
                               const GenerateOptions& options);

}  // namespace slmq
