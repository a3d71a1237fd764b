#include "slmq/model/model_tokenizer.h"

#include "slmq/core/error.h"
#include "slmq/model/model_loader.h"

namespace slmq {

Tokenizer load_model_tokenizer(const std::filesystem::path& path) {
  const bool tokenizer_only =
      path.extension() == ".json" ||
      (std::filesystem::is_directory(path) && !std::filesystem::exists(path / "config.json"));
  if (tokenizer_only) return Tokenizer::from_file(path);
  ModelSource src = open_model_source(path);
  if (src.tokenizer.is_null()) {
    throw DataError("model '" + path.string() +
                    "' has no tokenizer (tokenizer.json or GGUF tokenizer metadata)");
  }
  TokenizerConfig config;
  if (!src.tokenizer_config.is_null())
    config = TokenizerConfig::from_json(src.tokenizer_config, path.string());
  return Tokenizer(src.tokenizer, config, path.string());
}

}  // namespace slmq
