#pragma once
// LanguageModel over an slmq::Model and its tokenizer, as lm-eval's HFLM sees a checkpoint.
//
// Scoring packs each ScoreGroup into one row: the shared prefix once, then every continuation
// (without its last token) after it, with positions restarting where the prefix ends and an
// attention mask that lets each continuation see the prefix and itself only. Every scored token
// thus sees exactly the keys, at the same positions, as in a plain forward of its own row, and
// the prefix is computed once per group; continuations with equal inputs (all but their last
// token) share one copy (ScoreGroup::input_owners). A single row longer than `chunk_tokens` is
// computed in chunks through the KV cache, so attention memory stays bounded for long rolling
// windows. Log probabilities are log_softmax in float32 over the vocabulary; sums are accumulated
// in double.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>

#include "slmq/eval/evaluator.h"
#include "slmq/model/model.h"
#include "slmq/tokenizer/tokenizer.h"

namespace slmq::eval {

struct ModelLanguageModelOptions {
  std::optional<int64_t> max_length;  // lm-eval's max_length model arg; empty: §8.3 rule
  double memory_fraction = 0.5;       // share of free memory a batch may plan to use
  int64_t max_batch_tokens = 0;       // cap on the automatic budget; 0: 16384 CPU, 262144 CUDA
  int64_t chunk_tokens = 2048;        // longer single rows go through the KV cache in chunks
  // A group with two or more distinct continuation inputs whose packed row would be at least
  // this wide (merged MMLU few-shot stems) computes its prefix once and gives every input its own
  // row attending to the prefix's keys and values, instead of one packed row whose dense mask
  // costs the square of its width. 0: always packed.
  int64_t shared_prefix_width = 1024;
};

// lm-eval's max_length (§8.3): the first of n_positions, max_position_embeddings, n_ctx in
// config.json, else tokenizer_config's model_max_length unless it is the 1e30 "unset" value,
// else 2048.
int64_t lm_eval_max_length(const nlohmann::json& hf_config, const nlohmann::json& tokenizer_config);

class ModelLanguageModel : public LanguageModel {
 public:
  // `model` must outlive this object; the tokenizer is shared with the run that opened it.
  ModelLanguageModel(const Model& model, std::shared_ptr<const Tokenizer> tokenizer,
                     int64_t max_length, ModelLanguageModelOptions options = {});
  // Owning its tokenizer alone.
  ModelLanguageModel(const Model& model, Tokenizer tokenizer, int64_t max_length,
                     ModelLanguageModelOptions options = {})
      : ModelLanguageModel(model, std::make_shared<const Tokenizer>(std::move(tokenizer)),
                           max_length, options) {}

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int64_t>& tokens, bool skip_special_tokens) const override;
  std::optional<int64_t> bos_token() const override;
  std::optional<int64_t> eos_token() const override;
  int64_t max_length() const override { return max_length_; }
  int64_t batch_token_budget(int64_t length) const override;
  double max_padding() const override;
  std::vector<std::vector<TokenScore>> score(const std::vector<ScoreGroup>& groups) const override;
  std::vector<std::vector<int64_t>> generate(
      const std::vector<std::vector<int64_t>>& prompts, int64_t max_new_tokens,
      const std::function<bool(size_t, const std::vector<int64_t>&)>& stop_row) const override;

  const Model& model() const { return model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::vector<std::vector<TokenScore>> score_packed(const std::vector<ScoreGroup>& groups) const;
  std::vector<TokenScore> score_chunked(const ScoreGroup& group) const;
  std::vector<TokenScore> score_shared_prefix(const ScoreGroup& group) const;
  bool shares_prefix(const ScoreGroup& group) const;
  at::Tensor run_layers(const at::Tensor& ids, const AttentionContext& ctx) const;

  const Model& model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  int64_t max_length_;
  ModelLanguageModelOptions options_;
};

// The tokenizer and lm-eval max_length that belong to `model_path` (HF folder or .gguf), for a
// model already loaded (and possibly quantized) from it. Reopens the path's files; a run that has
// them open constructs ModelLanguageModel directly (pipeline/run_eval.h).
std::unique_ptr<ModelLanguageModel> make_model_language_model(
    const Model& model, const std::filesystem::path& model_path,
    ModelLanguageModelOptions options = {});

}  // namespace slmq::eval
