#pragma once
// The architecture hyper-parameters slmquant needs, read from an HF config.json (transformers 4.x
// `rope_theta`/`rope_scaling` and 5.x `rope_parameters` spellings alike). The common keys are read
// here; each family's own keys by its Architecture (slmq/model/arch/architecture.h).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "slmq/model/arch/architecture.h"

namespace slmq {

struct RopeConfig {
  // "default" | "linear" | "llama3" | "longrope" (Phi-3; "su" reads as it) | "factors" (GGUF
  // rope_freqs: each inverse frequency divided by its factor, as llama.cpp applies it)
  std::string type = "default";
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
  // longrope: per-frequency divisors, short for calls whose largest position + 1 is at most
  // original_max_position_embeddings, long beyond (transformers decides per forward call).
  std::vector<double> short_factor, long_factor;
  double attention_factor = 1.0;       // multiplies cos and sin (longrope)
  std::vector<double> freq_factors;    // "factors"
  double partial_rotary_factor = 1.0;  // RoPE on the first head_dim * this dimensions

  nlohmann::json to_json() const;
};

struct ModelConfig {
  std::string architecture;  // e.g. "LlamaForCausalLM"
  std::string model_type;    // e.g. "llama"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // bias on q/k/v projections
  bool o_bias = false;    // bias on the attention output projection
  bool mlp_bias = false;
  std::string hidden_act = "silu";
  Activation activation = Activation::kSilu;
  NormKind norm_kind = NormKind::kRms;
  // Embeddings are multiplied by this, cast to the compute dtype first (Gemma: sqrt(hidden)).
  std::optional<double> embedding_multiplier;
  // Attention scores are scaled by this^-0.5 (Gemma-3 query_pre_attn_scalar), else head_dim^-0.5.
  std::optional<double> query_pre_attn_scalar;
  std::optional<double> final_logit_softcapping;  // logits = cap * tanh(logits / cap)
  // RoPE of the sliding-window layers when it differs from `rope` (Gemma-3's local base).
  std::optional<RopeConfig> local_rope;
  // Per layer: the sliding attention window in tokens, or nullopt for full attention.
  std::vector<std::optional<int64_t>> sliding_window;
  // Special tokens: from config.json, overridden by generation_config.json where it has them.
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::string stored_dtype;  // the checkpoint's declared dtype, informational

  // The family's description: set by parse_hf_config; looked up from `architecture` when null.
  const Architecture* family = nullptr;
  const Architecture& arch() const;
  // RoPE of layer i (local_rope for sliding-window layers when set).
  const RopeConfig& layer_rope(int64_t layer) const;
  double attention_scale() const;

  nlohmann::json to_json() const;
};

// Parses config.json content; `source` names the file in errors. Throws DataError for missing or
// mistyped keys and UnsupportedError for an unknown architecture, activation or rope type.
ModelConfig parse_hf_config(const nlohmann::json& config, const std::string& source);

// Reads a rope_parameters / rope_scaling object (type, factor and the type's own keys) into `rope`.
void parse_rope_parameters(const ConfigReader& p, RopeConfig& rope);

// Applies bos/eos/pad token ids from generation_config.json content.
void apply_generation_config(ModelConfig& config, const nlohmann::json& generation,
                             const std::string& source);

}  // namespace slmq
