// llama.cpp tensor names -> Hugging Face names, and the Q/K row permutation llama.cpp's converter
// applies to Llama-family attention weights (convert_hf_to_gguf.py, LlamaModel.permute), which
// transformers' GGUF loader undoes with the same reshape/swapaxes (reverse_permute).
#include <array>
#include <cstring>
#include <string_view>
#include <utility>

#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kGlobal{{
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
}};

// Per-block part after "blk.N.", without the ".weight" / ".bias" suffix.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kBlock{{
    {"attn_norm", "input_layernorm"},
    {"attn_q", "self_attn.q_proj"},
    {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},
    {"ffn_norm", "post_attention_layernorm"},
    {"ffn_gate", "mlp.gate_proj"},
    {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},
}};

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string gguf_to_hf_tensor_name(const std::string& gguf_name) {
  for (const auto& [from, to] : kGlobal) {
    if (gguf_name == from) return std::string(to);
  }
  std::string_view name = gguf_name;
  if (!name.starts_with("blk.")) return {};
  name.remove_prefix(4);
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || !is_digits(name.substr(0, dot))) return {};
  const std::string_view layer = name.substr(0, dot);
  std::string_view rest = name.substr(dot + 1);
  std::string_view suffix;
  for (std::string_view s : {".weight", ".bias"}) {
    if (rest.ends_with(s)) suffix = s;
  }
  if (suffix.empty()) return {};
  rest.remove_suffix(suffix.size());
  for (const auto& [from, to] : kBlock) {
    if (rest == from) {
      return "model.layers." + std::string(layer) + "." + std::string(to) + std::string(suffix);
    }
  }
  return {};
}

void unpermute_qk_rows(std::vector<float>& data, std::int64_t rows, std::int64_t cols,
                       std::int64_t n_head) {
  if (n_head <= 0 || rows % (2 * n_head) != 0 ||
      static_cast<std::int64_t>(data.size()) != rows * cols) {
    throw DataError("cannot undo the Q/K permutation: " + std::to_string(rows) + " rows for " +
                    std::to_string(n_head) + " heads");
  }
  const std::int64_t half = rows / n_head / 2;
  std::vector<float> out(data.size());
  for (std::int64_t h = 0; h < n_head; ++h) {
    for (std::int64_t i = 0; i < half; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t src = h * 2 * half + 2 * i + j;
        const std::int64_t dst = h * 2 * half + j * half + i;
        std::memcpy(&out[dst * cols], &data[src * cols], cols * sizeof(float));
      }
    }
  }
  data.swap(out);
}

}  // namespace slmq::io
