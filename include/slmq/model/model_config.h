#pragma once
// The architecture hyper-parameters slmquant needs, read from an HF config.json (transformers 4.x
// `rope_theta`/`rope_scaling` and 5.x `rope_parameters` spellings alike).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slmq {

struct RopeConfig {
  std::string type = "default";  // "default" | "linear" | "llama3"
  double theta = 10000.0;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
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
  // Per layer: the sliding attention window in tokens, or nullopt for full attention.
  std::vector<std::optional<int64_t>> sliding_window;
  // Special tokens: from config.json, overridden by generation_config.json where it has them.
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::string stored_dtype;  // the checkpoint's declared dtype, informational

  nlohmann::json to_json() const;
};

// The architectures slmquant runs, as HF names them.
const std::vector<std::string>& supported_architectures();

// Parses config.json content; `source` names the file in errors. Throws DataError for missing or
// mistyped keys and UnsupportedError for an unknown architecture, activation or rope type.
ModelConfig parse_hf_config(const nlohmann::json& config, const std::string& source);

// Applies bos/eos/pad token ids from generation_config.json content.
void apply_generation_config(ModelConfig& config, const nlohmann::json& generation,
                             const std::string& source);

}  // namespace slmq
