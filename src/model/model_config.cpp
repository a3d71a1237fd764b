#include "slmq/model/model_config.h"

#include <algorithm>

#include "slmq/core/error.h"

namespace slmq {
namespace {

class ConfigJson {
 public:
  ConfigJson(const nlohmann::json& j, std::string source, std::string prefix = "")
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}

  template <typename T>
  T require(const char* key) const {
    if (!j_.contains(key) || j_[key].is_null()) fail(key, "is missing");
    return get<T>(key);
  }

  template <typename T>
  T get_or(const char* key, T fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) return fallback;
    return get<T>(key);
  }

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& raw(const char* key) const { return j_[key]; }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw DataError("'" + source_ + "': key '" + prefix_ + key + "' " + what);
  }

 private:
  template <typename T>
  T get(const char* key) const {
    try {
      return j_[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(key, "has the wrong type (" + j_[key].dump() + ")");
    }
  }

  const nlohmann::json& j_;
  std::string source_;
  std::string prefix_;  // "rope_parameters." for nested objects
};

RopeConfig parse_rope(const ConfigJson& c, const std::string& source) {
  RopeConfig rope;
  rope.theta = c.get_or<double>("rope_theta", rope.theta);
  // transformers 5 writes rope_parameters (with rope_theta inside); 4.x wrote rope_scaling.
  const char* key = c.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (!c.has(key)) return rope;
  if (!c.raw(key).is_object()) c.fail(key, "is not an object");
  ConfigJson p(c.raw(key), source, std::string(key) + ".");
  rope.theta = p.get_or<double>("rope_theta", rope.theta);
  rope.type = p.get_or<std::string>("rope_type", p.get_or<std::string>("type", "default"));
  if (rope.type == "default") return rope;
  rope.factor = p.require<double>("factor");
  if (rope.type == "linear") return rope;
  if (rope.type != "llama3") {
    throw UnsupportedError("'" + source + "': rope type '" + rope.type +
                           "' is not supported (supported: default, linear, llama3)");
  }
  rope.low_freq_factor = p.require<double>("low_freq_factor");
  rope.high_freq_factor = p.require<double>("high_freq_factor");
  rope.original_max_position_embeddings = p.require<int64_t>("original_max_position_embeddings");
  return rope;
}

// transformers 5 lists each layer's attention kind in layer_types; older configs imply it
// (Mistral: sliding_window on every layer; Qwen2: use_sliding_window from max_window_layers on).
std::vector<std::optional<int64_t>> parse_sliding_window(const ConfigJson& c,
                                                         const ModelConfig& m) {
  std::optional<int64_t> window;
  if (c.has("sliding_window")) window = c.require<int64_t>("sliding_window");
  std::vector<std::optional<int64_t>> per_layer(m.num_layers);
  if (c.has("layer_types")) {
    auto types = c.require<std::vector<std::string>>("layer_types");
    if (static_cast<int64_t>(types.size()) != m.num_layers)
      c.fail("layer_types", "does not have num_hidden_layers entries");
    for (int64_t i = 0; i < m.num_layers; ++i) {
      if (types[i] == "sliding_attention") {
        if (!window) c.fail("sliding_window", "is required by a sliding_attention layer");
        per_layer[i] = window;
      } else if (types[i] != "full_attention") {
        c.fail("layer_types", "has unsupported entry '" + types[i] + "'");
      }
    }
    return per_layer;
  }
  if (m.model_type == "mistral") {
    std::fill(per_layer.begin(), per_layer.end(), window);
  } else if (m.model_type == "qwen2" && c.get_or<bool>("use_sliding_window", false)) {
    int64_t first = c.get_or<int64_t>("max_window_layers", m.num_layers);
    for (int64_t i = first; i < m.num_layers; ++i) per_layer[i] = window;
  }
  return per_layer;
}

void read_special_tokens(const ConfigJson& c, ModelConfig& m);

std::vector<int64_t> parse_eos(const ConfigJson& c) {
  if (!c.has("eos_token_id")) return {};
  const auto& v = c.raw("eos_token_id");
  if (v.is_array()) return c.require<std::vector<int64_t>>("eos_token_id");
  return {c.require<int64_t>("eos_token_id")};
}

void read_special_tokens(const ConfigJson& c, ModelConfig& m) {
  if (c.has("bos_token_id")) m.bos_token_id = c.require<int64_t>("bos_token_id");
  if (c.has("eos_token_id")) m.eos_token_ids = parse_eos(c);
  if (c.has("pad_token_id")) m.pad_token_id = c.require<int64_t>("pad_token_id");
}

void apply_architecture_defaults(ModelConfig& m, const ConfigJson& c) {
  if (m.architecture == "Qwen2ForCausalLM") {
    m.qkv_bias = true;  // Qwen2 always has q/k/v bias and none on o_proj
    m.o_bias = false;
  } else {
    bool attention_bias = c.get_or<bool>("attention_bias", false);
    m.qkv_bias = m.o_bias = attention_bias;
  }
  m.mlp_bias = c.get_or<bool>("mlp_bias", false);
}

}  // namespace

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> kNames = {"LlamaForCausalLM", "Qwen2ForCausalLM",
                                                  "MistralForCausalLM"};
  return kNames;
}

ModelConfig parse_hf_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) throw DataError("'" + source + "' is not a JSON object");
  ConfigJson c(config, source);
  ModelConfig m;
  auto architectures = c.require<std::vector<std::string>>("architectures");
  if (architectures.empty()) c.fail("architectures", "is empty");
  m.architecture = architectures[0];
  const auto& supported = supported_architectures();
  if (std::find(supported.begin(), supported.end(), m.architecture) == supported.end()) {
    std::string list;
    for (const auto& s : supported) list += (list.empty() ? "" : ", ") + s;
    throw UnsupportedError("'" + source + "': architecture '" + m.architecture +
                           "' is not supported (supported: " + list + ")");
  }
  m.model_type = c.get_or<std::string>("model_type", "");
  m.vocab_size = c.require<int64_t>("vocab_size");
  m.hidden_size = c.require<int64_t>("hidden_size");
  m.intermediate_size = c.require<int64_t>("intermediate_size");
  m.num_layers = c.require<int64_t>("num_hidden_layers");
  m.num_heads = c.require<int64_t>("num_attention_heads");
  m.num_kv_heads = c.get_or<int64_t>("num_key_value_heads", m.num_heads);
  if (m.num_heads <= 0 || m.hidden_size <= 0 || m.num_layers <= 0 || m.vocab_size <= 0) {
    c.fail("num_attention_heads/hidden_size/num_hidden_layers/vocab_size", "must be positive");
  }
  m.head_dim = c.get_or<int64_t>("head_dim", m.hidden_size / m.num_heads);
  if (m.num_kv_heads <= 0 || m.num_heads % m.num_kv_heads != 0) {
    c.fail("num_key_value_heads", "must divide num_attention_heads");
  }
  m.max_position_embeddings = c.get_or<int64_t>("max_position_embeddings", 2048);
  m.rms_norm_eps = c.get_or<double>("rms_norm_eps", 1e-6);
  m.rope = parse_rope(c, source);
  m.tie_word_embeddings = c.get_or<bool>("tie_word_embeddings", false);
  m.hidden_act = c.get_or<std::string>("hidden_act", "silu");
  if (m.hidden_act != "silu") {
    throw UnsupportedError("'" + source + "': hidden_act '" + m.hidden_act +
                           "' is not supported (supported: silu)");
  }
  apply_architecture_defaults(m, c);
  m.sliding_window = parse_sliding_window(c, m);
  read_special_tokens(c, m);
  m.stored_dtype = c.get_or<std::string>("dtype", c.get_or<std::string>("torch_dtype", ""));
  return m;
}

void apply_generation_config(ModelConfig& config, const nlohmann::json& generation,
                             const std::string& source) {
  if (!generation.is_object()) throw DataError("'" + source + "' is not a JSON object");
  read_special_tokens(ConfigJson(generation, source), config);
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : sliding_window) windows.push_back(w ? nlohmann::json(*w) : nlohmann::json());
  return {{"architecture", architecture},
          {"model_type", model_type},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"intermediate_size", intermediate_size},
          {"num_layers", num_layers},
          {"num_heads", num_heads},
          {"num_kv_heads", num_kv_heads},
          {"head_dim", head_dim},
          {"max_position_embeddings", max_position_embeddings},
          {"rms_norm_eps", rms_norm_eps},
          {"rope",
           {{"type", rope.type},
            {"theta", rope.theta},
            {"factor", rope.factor},
            {"low_freq_factor", rope.low_freq_factor},
            {"high_freq_factor", rope.high_freq_factor},
            {"original_max_position_embeddings", rope.original_max_position_embeddings}}},
          {"tie_word_embeddings", tie_word_embeddings},
          {"qkv_bias", qkv_bias},
          {"o_bias", o_bias},
          {"mlp_bias", mlp_bias},
          {"hidden_act", hidden_act},
          {"sliding_window", windows},
          {"bos_token_id", bos_token_id ? nlohmann::json(*bos_token_id) : nlohmann::json()},
          {"eos_token_ids", eos_token_ids},
          {"pad_token_id", pad_token_id ? nlohmann::json(*pad_token_id) : nlohmann::json()},
          {"stored_dtype", stored_dtype}};
}

}  // namespace slmq
