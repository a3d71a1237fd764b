#pragma once
// Pieces most families share with Llama (private to src/model/arch/): the block's tensor names,
// the bias keys, and the llama-family GGUF metadata keys.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "slmq/model/arch/architecture.h"

namespace slmq::arch {

// q/k/v/o under self_attn., gate/up/down under mlp.; GGUF attn_q ... ffn_down.
const std::vector<LinearName>& llama_linear_names();
// input_layernorm (attn_norm) and post_attention_layernorm (ffn_norm).
const std::vector<NormName>& llama_norm_names();
// The same plus Qwen3/Gemma-3's per-head self_attn.q_norm / k_norm (attn_q_norm / attn_k_norm).
const std::vector<NormName>& llama_norm_names_with_qk();

// attention_bias (q/k/v/o) and mlp_bias as LlamaConfig reads them.
void read_llama_biases(const ConfigReader& c, ModelConfig& m);
// rope_parameters (transformers 5) or rope_scaling (4.x) into m.rope, the family's default type
// when neither is present.
void read_rope(const ConfigReader& c, ModelConfig& m);
// hidden_act must be one of `allowed` (HF names); sets m.activation.
void read_activation(const ConfigReader& c, ModelConfig& m, const std::vector<std::string>& allowed,
                     const char* key = "hidden_act");

// The config.json keys every llama-like GGUF has (sizes, heads, eps, rope base and scaling,
// vocab, tied head, special token ids), for general.architecture `arch`.
nlohmann::json llama_like_gguf_config(const io::GgufFile& file, const std::string& arch);

// The writing direction (llama_family_gguf_export.cpp): the llama-like keys under `arch` from
// `m` (sizes, heads, eps, RoPE base, dimension count and linear scaling; llama3 scaling and
// freq factors as a rope_freqs.weight tensor), notes for sliding windows llama.cpp ignores.
void llama_like_gguf_metadata(const ModelConfig& m, const std::string& arch, io::GgufWriter& w,
                              std::vector<std::string>& notes, bool windows_supported = false);
// llama.cpp's converter permutation of Q/K rows as a row order (the inverse of
// io::unpermute_qk_rows): file row h*d + 2i + j holds HF row h*d + j*d/2 + i.
std::vector<int64_t> permuted_qk_order(int64_t rows, int64_t heads);

}  // namespace slmq::arch
