#pragma once
// A GGUF model file seen as the pieces of a Hugging Face checkpoint folder: config.json,
// tokenizer.json and tokenizer_config.json equivalents (nlohmann::json), and the weights under
// their HF names, dequantized to fp32 on demand. Torch-free; the model module builds the model
// object from this exactly as from an HF folder.
//
// Supported: general.architecture "llama" (Llama, SmolLM, Mistral; model_type "mistral" when
// general.name mentions it, as transformers does) and "qwen2"; tokenizer.ggml.model "gpt2"
// (byte-level BPE) with tokenizer.ggml.pre in {smollm, starcoder, refact, command-r, codeshell,
// exaone, gpt2, mpt, olmo, jais, default, llama-bpe, llama3, llama-v3, qwen2, stablelm2}, and
// "llama" (SentencePiece BPE: tokens, scores and token_type required, byte fallback, space
// prefix per tokenizer.ggml.add_space_prefix).
// Anything else throws UnsupportedError naming the key and value.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slmq/io/gguf_file.h"

namespace slmq::io {

struct GgufWeight {
  std::string gguf_name;            // e.g. "blk.0.attn_q.weight"
  GgmlType type;                    // storage type in the file
  std::vector<std::int64_t> shape;  // HF / torch order, e.g. [out_features, in_features]
  // Dequantizes to fp32 in row-major order over `shape`, with llama.cpp's Q/K row permutation
  // undone where the architecture has it. Safe to call from several threads at once; each
  // call allocates a fresh vector. Keeps the mapped file alive.
  std::function<std::vector<float>()> load;
};

struct GgufModelFiles {
  nlohmann::json config;            // as config.json ("architectures", "model_type", sizes ...)
  nlohmann::json tokenizer;         // as tokenizer.json (BPE vocab, merges, added tokens ...)
  nlohmann::json tokenizer_config;  // as tokenizer_config.json (bos/eos, add_bos_token ...)
  std::map<std::string, GgufWeight> weights;  // HF name -> weight; lm_head absent when tied
  std::shared_ptr<const GgufFile> file;
};

// Reads the file and builds everything above. DataError for a malformed file or missing /
// ill-typed metadata (key named), UnsupportedError for an architecture, tokenizer, tensor or
// type we cannot map (named).
GgufModelFiles load_gguf_model_files(const std::filesystem::path& path);

// The pieces, exposed for tests and for `slmquant gguf-info`.
nlohmann::json gguf_to_hf_config(const GgufFile& file);
nlohmann::json gguf_to_hf_tokenizer(const GgufFile& file);
nlohmann::json gguf_to_hf_tokenizer_config(const GgufFile& file);
// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight"; empty for names with no HF
// counterpart in the supported architectures.
std::string gguf_to_hf_tensor_name(const std::string& gguf_name);
// Undoes llama.cpp's convert-time permutation of Q/K rows (`rows` = n_head * head_dim) in place:
// within each head, row 2*i + j (j in {0, 1}) goes back to j * head_dim / 2 + i.
void unpermute_qk_rows(std::vector<float>& data, std::int64_t rows, std::int64_t cols,
                       std::int64_t n_head);

}  // namespace slmq::io
