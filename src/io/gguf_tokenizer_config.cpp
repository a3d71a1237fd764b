// tokenizer_config.json equivalent from GGUF metadata (the config.json equivalent is the model
// module's: slmq/model/gguf_model.h).
#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io {
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
