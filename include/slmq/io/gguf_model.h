#pragma once
// The architecture-independent pieces of reading a GGUF model file as a Hugging Face checkpoint:
// tokenizer.json and tokenizer_config.json equivalents (nlohmann::json) and llama.cpp's Q/K row
// permutation. The architecture-aware parts (config.json, tensor names, per-family tensor fixes)
// live in the model module (slmq/model/gguf_model.h), which owns the architecture descriptions.
//
// Tokenizers: tokenizer.ggml.model "gpt2" (byte-level BPE) with tokenizer.ggml.pre in {smollm,
// starcoder, refact, command-r, codeshell, exaone, gpt2, mpt, olmo, jais, default, llama-bpe,
// llama3, llama-v3, qwen2, stablelm2}, and "llama" (SentencePiece BPE: tokens, scores and
// token_type required, byte fallback, space prefix per tokenizer.ggml.add_space_prefix).
// Anything else throws UnsupportedError naming the key and value.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slmq/io/gguf_file.h"

namespace slmq::io {

nlohmann::json gguf_to_hf_tokenizer(const GgufFile& file);
nlohmann::json gguf_to_hf_tokenizer_config(const GgufFile& file);
// The tokenizer.ggml.pre whose split gguf_to_hf_tokenizer writes as this tokenizer.json
// normalizer and pre_tokenizer do ("smollm", "gpt2", "llama-bpe", "qwen2"); nullopt for others.
std::optional<std::string> gguf_pre_for_hf(const nlohmann::json& normalizer,
                                           const nlohmann::json& pre_tokenizer);
// Undoes llama.cpp's convert-time permutation of Q/K rows (`rows` = n_head * head_dim) in place:
// within each head, row 2*i + j (j in {0, 1}) goes back to j * head_dim / 2 + i.
void unpermute_qk_rows(std::vector<float>& data, std::int64_t rows, std::int64_t cols,
                       std::int64_t n_head);

}  // namespace slmq::io
