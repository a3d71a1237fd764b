// The GGUF writing direction shared by the llama-like families: the hyper-parameter keys that
// llama.cpp's llama / qwen2 / qwen3 / gemma3 / phi3 loaders read (the inverse of
// llama_like_gguf_config), and the Architecture defaults that use them.
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "llama_family.h"
#include "slmq/core/error.h"
#include "slmq/io/ggml_types.h"
#include "slmq/io/gguf_writer.h"
#include "slmq/model/model_config.h"

namespace slmq {

std::string Architecture::gguf_export_name() const {
  const auto names = gguf_names();
  if (names.empty()) {
    throw UnsupportedError(
        fmt::format("GGUF export of {}: llama.cpp has no such architecture", hf_names().front()));
  }
  return names.front();
}

void Architecture::gguf_export_metadata(const ModelConfig& m, io::GgufWriter& w,
                                        std::vector<std::string>& notes) const {
  arch::llama_like_gguf_metadata(m, gguf_export_name(), w, notes);
}

namespace arch {
namespace {

int64_t rotary_dim(const ModelConfig& m) {
  return static_cast<int64_t>(static_cast<double>(m.head_dim) * m.rope.partial_rotary_factor);
}

// convert_hf_to_gguf.py's LlamaModel rope_freqs for rope_type llama3: per frequency, the divisor
// that turns the plain inverse frequency into the scaled one.
std::vector<float> llama3_factors(const ModelConfig& m) {
  const RopeConfig& r = m.rope;
  const auto dim = rotary_dim(m);
  const double old_context = static_cast<double>(r.original_max_position_embeddings);
  const double low_wavelen = old_context / r.low_freq_factor;
  const double high_wavelen = old_context / r.high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < dim; i += 2) {
    const float freq = 1.0f / std::pow(static_cast<float>(r.theta),
                                       static_cast<float>(i) / static_cast<float>(dim));
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(r.factor));
    } else {
      const double smooth =
          (old_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return factors;
}

void add_f32_tensor(io::GgufWriter& w, const std::string& name, const std::vector<float>& v) {
  std::vector<std::uint8_t> bytes(v.size() * sizeof(float));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  w.add_tensor(name, io::GgmlType::kF32, {static_cast<std::int64_t>(v.size())}, std::move(bytes));
}

void rope_scaling(const ModelConfig& m, const std::string& p, io::GgufWriter& w) {
  const RopeConfig& r = m.rope;
  if (r.type == "default") return;
  if (r.type == "linear") {
    w.set_string(p + "rope.scaling.type", "linear");
    w.set_f32(p + "rope.scaling.factor", r.factor);
    return;
  }
  if (r.type == "llama3") return add_f32_tensor(w, "rope_freqs.weight", llama3_factors(m));
  if (r.type == "factors") {
    return add_f32_tensor(w, "rope_freqs.weight",
                          std::vector<float>(r.freq_factors.begin(), r.freq_factors.end()));
  }
  throw UnsupportedError(fmt::format(
      "GGUF export of {}: rope type '{}' has no llama.cpp equivalent here (supported: default, "
      "linear, llama3{})",
      m.architecture, r.type, m.architecture == "Phi3ForCausalLM" ? ", longrope" : ""));
}

}  // namespace

void llama_like_gguf_metadata(const ModelConfig& m, const std::string& arch, io::GgufWriter& w,
                              std::vector<std::string>& notes, bool windows_supported) {
  const std::string p = arch + ".";
  w.set_u32(p + "context_length", m.max_position_embeddings);
  w.set_u32(p + "embedding_length", m.hidden_size);
  w.set_u32(p + "block_count", m.num_layers);
  w.set_u32(p + "feed_forward_length", m.intermediate_size);
  w.set_u32(p + "attention.head_count", m.num_heads);
  w.set_u32(p + "attention.head_count_kv", m.num_kv_heads);
  w.set_u32(p + "attention.key_length", m.head_dim);
  w.set_u32(p + "attention.value_length", m.head_dim);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", m.rms_norm_eps);
  w.set_f32(p + "rope.freq_base", m.rope.theta);
  w.set_u32(p + "rope.dimension_count", rotary_dim(m));
  w.set_u32(p + "vocab_size", m.vocab_size);
  if (m.rope.type != "longrope") rope_scaling(m, p, w);
  if (windows_supported) return;
  for (size_t i = 0; i < m.sliding_window.size(); ++i) {
    if (m.sliding_window[i]) {
      notes.push_back(fmt::format(
          "llama.cpp's '{}' architecture has no sliding window: layer {} (and any other windowed "
          "layer) attends to all tokens, so contexts longer than {} tokens differ",
          arch, i, *m.sliding_window[i]));
      break;
    }
  }
}

std::vector<int64_t> permuted_qk_order(int64_t rows, int64_t heads) {
  if (heads <= 0 || rows % (2 * heads) != 0)
    throw UnsupportedError(
        fmt::format("cannot permute {} rows into {} heads for llama.cpp", rows, heads));
  const int64_t half = rows / heads / 2;
  std::vector<int64_t> order(static_cast<size_t>(rows));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        order[static_cast<size_t>(h * 2 * half + 2 * i + j)] = h * 2 * half + j * half + i;
  return order;
}

}  // namespace arch
}  // namespace slmq
