#pragma once
// The tokenizer that belongs to a model path: tokenizer.json (+ tokenizer_config.json) in an HF
// folder, or the one synthesized from a GGUF file's metadata. A bare tokenizer.json file or a
// folder with only tokenizer files works too.
#include <filesystem>

#include "slmq/tokenizer/tokenizer.h"

namespace slmq {

// Throws DataError naming the path when it holds no tokenizer.
Tokenizer load_model_tokenizer(const std::filesystem::path& path);

}  // namespace slmq
