#include "slmq/model/model_config.h"

#include <cmath>

#include "slmq/core/error.h"
#include "slmq/model/config_reader.h"

namespace slmq {
namespace {

std::vector<double> factor_list(const ConfigReader& p, const char* key) {
  return p.require<std::vector<double>>(key);
}

// transformers 5 lists each layer's attention kind in layer_types; families whose older configs
// imply it (Mistral, Qwen2/3's max_window_layers, Phi-3, Gemma-3's pattern) fill it themselves
// when layer_types is absent.
std::vector<std::optional<int64_t>> parse_layer_types(const ConfigReader& c, const ModelConfig& m) {
  std::vector<std::optional<int64_t>> per_layer(m.num_layers);
  if (!c.has("layer_types")) return per_layer;
  std::optional<int64_t> window;
  if (c.has("sliding_window")) window = c.require<int64_t>("sliding_window");
  auto types = c.require<std::vector<std::string>>("layer_types");
  if (static_cast<int64_t>(types.size()) != m.num_layers)
    c.fail("layer_types", "does not have num_hidden_layers entries");
  for (int64_t i = 0; i < m.num_layers; ++i) {
    if (types[i] == "sliding_attention") {
      if (!window) c.fail("sliding_window", "is required by a sliding_attention layer");
      if (*window <= 0) c.fail("sliding_window", "must be positive");
      per_layer[i] = window;
    } else if (types[i] != "full_attention") {
      c.fail("layer_types", "has unsupported entry '" + types[i] + "'");
    }
  }
  return per_layer;
}

std::vector<int64_t> parse_eos(const ConfigReader& c) {
  if (!c.has("eos_token_id")) return {};
  if (c.raw("eos_token_id").is_array()) return c.require<std::vector<int64_t>>("eos_token_id");
  return {c.require<int64_t>("eos_token_id")};
}

void read_special_tokens(const ConfigReader& c, ModelConfig& m) {
  if (c.has("bos_token_id")) m.bos_token_id = c.require<int64_t>("bos_token_id");
  if (c.has("eos_token_id")) m.eos_token_ids = parse_eos(c);
  if (c.has("pad_token_id")) m.pad_token_id = c.require<int64_t>("pad_token_id");
}

// Values that would make the forward produce NaN or nonsense are refused once, at load.
void validate(const ConfigReader& c, const ModelConfig& m) {
  if (m.vocab_size <= 0) c.fail("vocab_size", "must be positive");
  if (m.hidden_size <= 0) c.fail("hidden_size", "must be positive");
  if (m.intermediate_size <= 0) c.fail("intermediate_size", "must be positive");
  if (m.num_layers <= 0) c.fail("num_hidden_layers", "must be positive");
  if (m.num_heads <= 0) c.fail("num_attention_heads", "must be positive");
  if (m.head_dim <= 0 || m.head_dim % 2 != 0) c.fail("head_dim", "must be positive and even");
  if (m.num_kv_heads <= 0 || m.num_heads % m.num_kv_heads != 0)
    c.fail("num_key_value_heads", "must divide num_attention_heads");
  if (m.max_position_embeddings <= 0) c.fail("max_position_embeddings", "must be positive");
  if (!(m.rms_norm_eps > 0) || !std::isfinite(m.rms_norm_eps))
    c.fail("rms_norm_eps", "must be a positive finite number");
  // Bounds far above any model (Llama-3-405B: 126 layers, 16384 hidden, 128256 vocab) that keep
  // a corrupt count from sizing an allocation.
  if (m.num_layers > 100000) c.fail("num_hidden_layers", "is implausibly large");
  if (m.vocab_size > (int64_t{1} << 26)) c.fail("vocab_size", "is implausibly large");
}

void validate_rope(const ConfigReader& c, const RopeConfig& rope) {
  if (!(rope.theta > 0) || !std::isfinite(rope.theta))
    c.fail("rope_theta", "must be a positive finite number");
}

}  // namespace

void parse_rope_parameters(const ConfigReader& p, RopeConfig& rope) {
  rope.theta = p.get_or<double>("rope_theta", rope.theta);
  rope.type = p.get_or<std::string>("rope_type", p.get_or<std::string>("type", rope.type));
  rope.partial_rotary_factor = p.get_or<double>("partial_rotary_factor", 1.0);
  if (!(rope.partial_rotary_factor > 0 && rope.partial_rotary_factor <= 1))
    p.fail("partial_rotary_factor", "must be in (0, 1]");
  if (rope.type == "su") rope.type = "longrope";
  if (rope.type == "default") return;
  if (rope.type == "linear") {
    rope.factor = p.require<double>("factor");
  } else if (rope.type == "llama3") {
    rope.factor = p.require<double>("factor");
    rope.low_freq_factor = p.require<double>("low_freq_factor");
    rope.high_freq_factor = p.require<double>("high_freq_factor");
    rope.original_max_position_embeddings = p.require<int64_t>("original_max_position_embeddings");
  } else if (rope.type == "factors") {
    rope.freq_factors = p.require<std::vector<double>>("freq_factors");
  } else if (rope.type == "longrope") {
    rope.short_factor = factor_list(p, "short_factor");
    rope.long_factor = factor_list(p, "long_factor");
    // The factor and original context are finished by the family (Phi-3 reads them at top level).
    rope.factor = p.get_or<double>("factor", 0.0);
    rope.original_max_position_embeddings =
        p.get_or<int64_t>("original_max_position_embeddings", 0);
    rope.attention_factor = p.get_or<double>("attention_factor", 0.0);
  } else {
    throw UnsupportedError("'" + p.source() + "': rope type '" + rope.type +
                           "' is not supported (supported: default, linear, llama3, longrope)");
  }
}

ModelConfig parse_hf_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) throw DataError("'" + source + "' is not a JSON object");
  ConfigReader c(config, source);
  ModelConfig m;
  auto architectures = c.require<std::vector<std::string>>("architectures");
  if (architectures.empty()) c.fail("architectures", "is empty");
  m.architecture = architectures[0];
  m.family = &architecture_for(m.architecture, source);
  m.model_type = c.get_or<std::string>("model_type", "");
  m.vocab_size = c.require<int64_t>("vocab_size");
  m.hidden_size = c.require<int64_t>("hidden_size");
  m.intermediate_size = c.require<int64_t>("intermediate_size");
  m.num_layers = c.require<int64_t>("num_hidden_layers");
  m.num_heads = c.require<int64_t>("num_attention_heads");
  m.num_kv_heads = c.get_or<int64_t>("num_key_value_heads", m.num_heads);
  if (m.num_heads <= 0) c.fail("num_attention_heads", "must be positive");
  m.head_dim = c.get_or<int64_t>("head_dim", m.hidden_size / m.num_heads);
  m.max_position_embeddings = c.get_or<int64_t>("max_position_embeddings", 2048);
  m.rms_norm_eps = c.get_or<double>("rms_norm_eps", 1e-6);
  m.tie_word_embeddings = c.get_or<bool>("tie_word_embeddings", false);
  m.hidden_act = c.get_or<std::string>("hidden_act", "silu");
  m.rope.theta = c.get_or<double>("rope_theta", m.rope.theta);
  validate(c, m);
  m.sliding_window = parse_layer_types(c, m);
  m.family->parse_config(c, m);
  validate_rope(c, m.rope);
  if (m.local_rope) validate_rope(c, *m.local_rope);
  for (const auto& w : m.sliding_window)
    if (w && *w <= 0) c.fail("sliding_window", "must be positive");
  read_special_tokens(c, m);
  m.stored_dtype = c.get_or<std::string>("dtype", c.get_or<std::string>("torch_dtype", ""));
  return m;
}

void apply_generation_config(ModelConfig& config, const nlohmann::json& generation,
                             const std::string& source) {
  if (!generation.is_object()) throw DataError("'" + source + "' is not a JSON object");
  read_special_tokens(ConfigReader(generation, source), config);
}

const Architecture& ModelConfig::arch() const {
  return family != nullptr ? *family : architecture_for(architecture, "model config");
}

const RopeConfig& ModelConfig::layer_rope(int64_t layer) const {
  const bool sliding = sliding_window.at(static_cast<size_t>(layer)).has_value();
  return sliding && local_rope ? *local_rope : rope;
}

double ModelConfig::attention_scale() const {
  return 1.0 / std::sqrt(query_pre_attn_scalar.value_or(static_cast<double>(head_dim)));
}

nlohmann::json RopeConfig::to_json() const {
  nlohmann::json j = {{"type", type},
                      {"theta", theta},
                      {"factor", factor},
                      {"low_freq_factor", low_freq_factor},
                      {"high_freq_factor", high_freq_factor},
                      {"original_max_position_embeddings", original_max_position_embeddings}};
  if (type == "longrope") {
    j["short_factor"] = short_factor;
    j["long_factor"] = long_factor;
    j["attention_factor"] = attention_factor;
  }
  if (type == "factors") j["freq_factors"] = freq_factors;
  if (partial_rotary_factor != 1.0) j["partial_rotary_factor"] = partial_rotary_factor;
  return j;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : sliding_window) windows.push_back(w ? nlohmann::json(*w) : nlohmann::json());
  auto opt = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  nlohmann::json j = {
      {"architecture", architecture},
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
      {"rope", rope.to_json()},
      {"tie_word_embeddings", tie_word_embeddings},
      {"qkv_bias", qkv_bias},
      {"o_bias", o_bias},
      {"mlp_bias", mlp_bias},
      {"hidden_act", hidden_act},
      {"norm", to_string(norm_kind)},
      {"sliding_window", windows},
      {"bos_token_id", bos_token_id ? nlohmann::json(*bos_token_id) : nlohmann::json()},
      {"eos_token_ids", eos_token_ids},
      {"pad_token_id", pad_token_id ? nlohmann::json(*pad_token_id) : nlohmann::json()},
      {"stored_dtype", stored_dtype}};
  if (embedding_multiplier) j["embedding_multiplier"] = *embedding_multiplier;
  if (query_pre_attn_scalar) j["query_pre_attn_scalar"] = opt(query_pre_attn_scalar);
  if (final_logit_softcapping) j["final_logit_softcapping"] = *final_logit_softcapping;
  if (local_rope) j["local_rope"] = local_rope->to_json();
  return j;
}

}  // namespace slmq
