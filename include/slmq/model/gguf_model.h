#pragma once
// A GGUF model file seen as the pieces of a Hugging Face checkpoint folder: config.json,
// tokenizer.json and tokenizer_config.json equivalents, and the weights under their HF names,
// dequantized to fp32 on demand. The file's general.architecture picks the family
// (slmq/model/arch/architecture.h), whose tables map tensor names and metadata keys the way
// transformers' GGUF loader does. Torch-free: the loader builds the model from this exactly as
// from an HF folder.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slmq/io/gguf_file.h"
#include "slmq/model/arch/architecture.h"

namespace slmq {

struct GgufWeight {
  std::string gguf_name;            // e.g. "blk.0.attn_q.weight"
  io::GgmlType type;                // storage type in the file
  std::vector<std::int64_t> shape;  // HF / torch order, e.g. [out_features, in_features]
  // Dequantizes to fp32 in row-major order over `shape`, with the family's stored-form fixes
  // undone (llama's Q/K row permutation, Gemma's 1 + w norms). Safe to call from several threads
  // at once; each call allocates a fresh vector. Keeps the mapped file alive.
  std::function<std::vector<float>()> load;
};

struct GgufModelFiles {
  const Architecture* arch = nullptr;
  nlohmann::json config;            // as config.json ("architectures", "model_type", sizes ...)
  nlohmann::json tokenizer;         // as tokenizer.json
  nlohmann::json tokenizer_config;  // as tokenizer_config.json (bos/eos, add_bos_token ...)
  std::map<std::string, GgufWeight> weights;  // HF name -> weight; lm_head absent when tied
  std::shared_ptr<const io::GgufFile> file;
};

// Reads the file and builds everything above. DataError for a malformed file or missing /
// ill-typed metadata (key named), UnsupportedError for an architecture, tokenizer, tensor or
// type we cannot map (named, with the supported architectures).
GgufModelFiles load_gguf_model_files(const std::filesystem::path& path);

// The family of a GGUF file (UnsupportedError naming general.architecture and the supported ones).
const Architecture& gguf_architecture(const io::GgufFile& file);
// config.json equivalent (exposed for tests and `slmquant gguf-info --hf-json`).
nlohmann::json gguf_to_hf_config(const io::GgufFile& file);
// "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight" in `arch`'s tables (a fused
// GGUF tensor maps to the fused HF name); empty for names with no HF counterpart.
std::string gguf_to_hf_tensor_name(const Architecture& arch, const std::string& gguf_name);

}  // namespace slmq
