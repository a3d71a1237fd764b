#include "llama_family.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "slmq/core/error.h"
#include "slmq/io/gguf_file.h"
#include "slmq/model/config_reader.h"
#include "slmq/model/model_config.h"

namespace slmq::arch {

const std::vector<LinearName>& llama_linear_names() {
  static const std::vector<LinearName> kNames = {
      {LinearRole::kQ, "self_attn.q_proj", "attn_q"},
      {LinearRole::kK, "self_attn.k_proj", "attn_k"},
      {LinearRole::kV, "self_attn.v_proj", "attn_v"},
      {LinearRole::kO, "self_attn.o_proj", "attn_output"},
      {LinearRole::kGate, "mlp.gate_proj", "ffn_gate"},
      {LinearRole::kUp, "mlp.up_proj", "ffn_up"},
      {LinearRole::kDown, "mlp.down_proj", "ffn_down"}};
  return kNames;
}

const std::vector<NormName>& llama_norm_names() {
  static const std::vector<NormName> kNames = {
      {NormRole::kAttnIn, "input_layernorm", "attn_norm"},
      {NormRole::kMlpIn, "post_attention_layernorm", "ffn_norm"}};
  return kNames;
}

const std::vector<NormName>& llama_norm_names_with_qk() {
  static const std::vector<NormName> kNames = [] {
    std::vector<NormName> names = llama_norm_names();
    names.push_back({NormRole::kQ, "self_attn.q_norm", "attn_q_norm"});
    names.push_back({NormRole::kK, "self_attn.k_norm", "attn_k_norm"});
    return names;
  }();
  return kNames;
}

void read_llama_biases(const ConfigReader& c, ModelConfig& m) {
  m.qkv_bias = m.o_bias = c.get_or<bool>("attention_bias", false);
  m.mlp_bias = c.get_or<bool>("mlp_bias", false);
}

void read_rope(const ConfigReader& c, ModelConfig& m) {
  // transformers 5 writes rope_parameters (with rope_theta inside); 4.x wrote rope_scaling.
  const char* key = c.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (c.has(key)) parse_rope_parameters(c.child(key), m.rope);
}

void read_activation(const ConfigReader& c, ModelConfig& m, const std::vector<std::string>& allowed,
                     const char* key) {
  m.hidden_act = c.get_or<std::string>(key, allowed.front());
  if (std::find(allowed.begin(), allowed.end(), m.hidden_act) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw UnsupportedError("'" + c.source() + "': " + key + " '" + m.hidden_act +
                           "' is not supported for " + m.architecture + " (supported: " + list +
                           ")");
  }
  m.activation = m.hidden_act == "silu" ? Activation::kSilu : Activation::kGeluTanh;
}

namespace {

std::int64_t gguf_vocab_size(const io::GgufFile& file, const std::string& arch) {
  if (auto n = file.find_uint(arch + ".vocab_size")) return static_cast<std::int64_t>(*n);
  return static_cast<std::int64_t>(file.get_string_array("tokenizer.ggml.tokens").size());
}

// The layer count sizes per-layer work and allocations, so it must be backed by the file: one
// more than the highest blk.N index among its tensors. A corrupt count (4294967295) is a
// DataError naming the key, raised before anything is sized by it.
std::uint64_t gguf_block_count(const io::GgufFile& file, const std::string& key) {
  const std::uint64_t n = file.get_uint(key);
  std::uint64_t blocks = 0;
  for (const auto& t : file.tensors()) {
    if (t.name.rfind("blk.", 0) != 0) continue;
    const char* first = t.name.data() + 4;
    const char* last = t.name.data() + t.name.size();
    std::uint64_t index = 0;
    const auto [end, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && end != first && end != last && *end == '.')
      blocks = std::max(blocks, index + 1);
  }
  if (n == 0 || n > blocks) {
    throw DataError(fmt::format(
        "GGUF '{}': metadata key '{}': {} blocks, but the file holds tensors for {} (blk.0 to "
        "blk.{})",
        file.path().string(), key, n, blocks,
        blocks == 0 ? std::string("?") : std::to_string(blocks - 1)));
  }
  return n;
}

nlohmann::json gguf_rope_scaling(const io::GgufFile& file, const std::string& arch) {
  const auto type = file.find_string(arch + ".rope.scaling.type");
  if (!type || *type == "none") return nullptr;
  nlohmann::json s{{"rope_type", *type}, {"type", *type}};
  if (auto f = file.find_double(arch + ".rope.scaling.factor")) s["factor"] = *f;
  if (auto n = file.find_uint(arch + ".rope.scaling.original_context_length"))
    s["original_max_position_embeddings"] = *n;
  return s;
}

void add_token_ids(const io::GgufFile& file, nlohmann::json& config) {
  for (const auto& [key, name] : {std::pair{"bos", "bos_token_id"},
                                  {"eos", "eos_token_id"},
                                  {"padding", "pad_token_id"},
                                  {"unknown", "unk_token_id"}}) {
    if (auto id = file.find_uint(fmt::format("tokenizer.ggml.{}_token_id", key)))
      config[name] = *id;
  }
}

}  // namespace

nlohmann::json llama_like_gguf_config(const io::GgufFile& file, const std::string& arch) {
  const std::string p = arch + ".";
  const auto hidden = file.get_uint(p + "embedding_length");
  const auto heads = file.get_uint(p + "attention.head_count");
  if (heads == 0 || hidden % heads != 0) {
    throw DataError(fmt::format(
        "GGUF '{}': metadata key '{}attention.head_count': {} heads do not divide the hidden "
        "size {}",
        file.path().string(), p, heads, hidden));
  }
  const std::uint64_t head_dim =
      file.find_uint(p + "attention.key_length").value_or(hidden / heads);
  const double theta = file.find_double(p + "rope.freq_base").value_or(10000.0);
  nlohmann::json c{
      {"hidden_size", hidden},
      {"intermediate_size", file.get_uint(p + "feed_forward_length")},
      {"num_hidden_layers", gguf_block_count(file, p + "block_count")},
      {"num_attention_heads", heads},
      {"num_key_value_heads", file.find_uint(p + "attention.head_count_kv").value_or(heads)},
      {"head_dim", head_dim},
      {"max_position_embeddings", file.get_uint(p + "context_length")},
      {"rms_norm_eps", file.get_double(p + "attention.layer_norm_rms_epsilon")},
      {"rope_theta", theta},
      {"rope_parameters", {{"rope_theta", theta}, {"rope_type", "default"}}},
      {"rope_scaling", gguf_rope_scaling(file, arch)},
      {"hidden_act", "silu"},
      {"vocab_size", gguf_vocab_size(file, arch)},
      {"tie_word_embeddings", file.find_tensor("output.weight") == nullptr},
      {"attention_dropout", 0.0},
      {"initializer_range", 0.02},
      {"torch_dtype", "float32"},
  };
  if (!c["rope_scaling"].is_null()) c["rope_parameters"].update(c["rope_scaling"]);
  add_token_ids(file, c);
  return c;
}

}  // namespace slmq::arch
