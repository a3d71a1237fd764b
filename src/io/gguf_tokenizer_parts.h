#pragma once
// Pieces shared by the GGUF tokenizer converters (gguf_tokenizer.cpp for byte-level BPE,
// gguf_spm_tokenizer.cpp for SentencePiece vocabularies). Internal to src/io.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slmq/io/gguf_file.h"

namespace slmq::io::detail {

// llama.cpp token types (llama_token_type, = SentencePiece's piece types).
constexpr std::int64_t kTypeNormal = 1;
constexpr std::int64_t kTypeUnknown = 2;
constexpr std::int64_t kTypeControl = 3;
constexpr std::int64_t kTypeUserDefined = 4;
constexpr std::int64_t kTypeUnused = 5;
constexpr std::int64_t kTypeByte = 6;

// HF TemplateProcessing that puts tokenizer.ggml.bos_token_id before (and eos after) each
// sequence, as the original tokenizer.json files of such models do; null when neither is added.
// DataError naming the key when a needed id is missing or outside `tokens`.
nlohmann::json template_processor(const GgufFile& file, const std::vector<std::string>& tokens,
                                  bool add_bos, bool add_eos);

// tokenizer.json for tokenizer.ggml.model "llama" (gguf_spm_tokenizer.cpp).
nlohmann::json spm_tokenizer_json(const GgufFile& file);

}  // namespace slmq::io::detail
