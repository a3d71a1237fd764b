// config.json and tokenizer_config.json equivalents from GGUF metadata. Key choices follow
// transformers' GGUF loader (integrations/ggml.py, GGUF_CONFIG_MAPPING) so that a GGUF file and
// the HF folder it came from configure the same model.
#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io {
namespace {

struct ArchInfo {
  std::string model_type;
  std::string architecture;
};

ArchInfo arch_info(const GgufFile& file) {
  const std::string& arch = file.get_string("general.architecture");
  if (arch == "llama") {
    // llama.cpp stores Mistral as "llama"; transformers tells them apart by the model name.
    const auto name = file.find_string("general.name").value_or("");
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("mistral") != std::string::npos) return {"mistral", "MistralForCausalLM"};
    return {"llama", "LlamaForCausalLM"};
  }
  if (arch == "qwen2") return {"qwen2", "Qwen2ForCausalLM"};
  throw UnsupportedError(
      fmt::format("GGUF '{}': general.architecture '{}' is not supported "
                  "(supported: llama, qwen2)",
                  file.path().string(), arch));
}

std::int64_t vocab_size(const GgufFile& file, const std::string& arch) {
  if (auto n = file.find_uint(arch + ".vocab_size")) return static_cast<std::int64_t>(*n);
  return static_cast<std::int64_t>(file.get_string_array("tokenizer.ggml.tokens").size());
}

nlohmann::json rope_scaling(const GgufFile& file, const std::string& arch) {
  const auto type = file.find_string(arch + ".rope.scaling.type");
  if (!type || *type == "none") return nullptr;
  nlohmann::json s{{"rope_type", *type}, {"type", *type}};
  if (auto f = file.find_double(arch + ".rope.scaling.factor")) s["factor"] = *f;
  if (auto n = file.find_uint(arch + ".rope.scaling.original_context_length")) {
    s["original_max_position_embeddings"] = *n;
  }
  return s;
}

void add_token_ids(const GgufFile& file, nlohmann::json& config) {
  for (const auto& [key, name] : {std::pair{"bos", "bos_token_id"},
                                  {"eos", "eos_token_id"},
                                  {"padding", "pad_token_id"},
                                  {"unknown", "unk_token_id"}}) {
    if (auto id = file.find_uint(fmt::format("tokenizer.ggml.{}_token_id", key)))
      config[name] = *id;
  }
}

}  // namespace

nlohmann::json gguf_to_hf_config(const GgufFile& file) {
  const ArchInfo info = arch_info(file);
  const std::string arch = file.get_string("general.architecture");
  const std::string p = arch + ".";
  const auto hidden = file.get_uint(p + "embedding_length");
  const auto heads = file.get_uint(p + "attention.head_count");
  if (heads == 0 || hidden % heads != 0) {
    throw DataError(
        fmt::format("GGUF '{}': metadata key '{}attention.head_count': {} heads do "
                    "not divide the hidden size {}",
                    file.path().string(), p, heads, hidden));
  }
  std::uint64_t head_dim = hidden / heads;
  if (arch == "llama") {
    head_dim = file.find_uint(p + "attention.key_length")
                   .value_or(file.find_uint(p + "rope.dimension_count").value_or(head_dim));
  }
  const double theta = file.find_double(p + "rope.freq_base").value_or(10000.0);
  nlohmann::json c{
      {"architectures", {info.architecture}},
      {"model_type", info.model_type},
      {"hidden_size", hidden},
      {"intermediate_size", file.get_uint(p + "feed_forward_length")},
      {"num_hidden_layers", file.get_uint(p + "block_count")},
      {"num_attention_heads", heads},
      {"num_key_value_heads", file.find_uint(p + "attention.head_count_kv").value_or(heads)},
      {"head_dim", head_dim},
      {"max_position_embeddings", file.get_uint(p + "context_length")},
      {"rms_norm_eps", file.get_double(p + "attention.layer_norm_rms_epsilon")},
      {"rope_theta", theta},
      {"rope_parameters", {{"rope_theta", theta}, {"rope_type", "default"}}},
      {"rope_scaling", rope_scaling(file, arch)},
      {"hidden_act", "silu"},
      {"vocab_size", vocab_size(file, arch)},
      {"tie_word_embeddings", file.find_tensor("output.weight") == nullptr},
      {"attention_dropout", 0.0},
      {"initializer_range", 0.02},
      {"torch_dtype", "float32"},
  };
  if (arch == "llama") {
    c["attention_bias"] = file.find_tensor("blk.0.attn_q.bias") != nullptr;
    c["mlp_bias"] = false;
  } else {
    c["use_sliding_window"] = false;
  }
  if (!c["rope_scaling"].is_null()) c["rope_parameters"].update(c["rope_scaling"]);
  add_token_ids(file, c);
  return c;
}

nlohmann::json gguf_to_hf_tokenizer_config(const GgufFile& file) {
  const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  auto token = [&](const char* key) -> nlohmann::json {
    const auto id = file.find_uint(fmt::format("tokenizer.ggml.{}_token_id", key));
    if (!id) return nullptr;
    if (*id >= tokens.size()) {
      throw DataError(
          fmt::format("GGUF '{}': metadata key 'tokenizer.ggml.{}_token_id': id {} "
                      "is outside the vocabulary ({} tokens)",
                      file.path().string(), key, *id, tokens.size()));
    }
    return tokens[*id];
  };
  const std::string arch = file.get_string("general.architecture");
  nlohmann::json c{
      {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"bos_token", token("bos")},
      {"eos_token", token("eos")},
      {"unk_token", token("unknown")},
      {"pad_token", token("padding")},
      {"add_bos_token", file.find_bool("tokenizer.ggml.add_bos_token").value_or(false)},
      {"add_eos_token", file.find_bool("tokenizer.ggml.add_eos_token").value_or(false)},
      {"clean_up_tokenization_spaces", false},
      {"model_max_length", file.find_uint(arch + ".context_length").value_or(0)},
  };
  if (auto tmpl = file.find_string("tokenizer.chat_template")) c["chat_template"] = *tmpl;
  return c;
}

}  // namespace slmq::io
