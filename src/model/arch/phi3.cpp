// Phi-3 / Phi-3.5 (Phi3ForCausalLM): the Llama block with fused projections (qkv_proj holds q, k,
// v stacked by rows; gate_up_proj holds gate then up), LongRoPE ("su") with short and long
// per-frequency factors, and a sliding window on every layer when the config sets one.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "llama_family.h"
#include "registry.h"
#include "slmq/io/gguf_writer.h"
#include "slmq/model/config_reader.h"
#include "slmq/model/model_config.h"

namespace slmq::arch {
namespace {

const std::vector<LinearName>& phi3_linear_names() {
  // Names of the split linears (reports, calibration hooks); q/k/v and gate/up are stored fused.
  static const std::vector<LinearName> kNames = {
      {LinearRole::kQ, "self_attn.q_proj", ""},
      {LinearRole::kK, "self_attn.k_proj", ""},
      {LinearRole::kV, "self_attn.v_proj", ""},
      {LinearRole::kO, "self_attn.o_proj", "attn_output"},
      {LinearRole::kGate, "mlp.gate_proj", ""},
      {LinearRole::kUp, "mlp.up_proj", ""},
      {LinearRole::kDown, "mlp.down_proj", "ffn_down"}};
  return kNames;
}

// transformers' _compute_longrope_parameters: factor = max_position_embeddings / original unless
// given; the attention factor sqrt(1 + ln(factor) / ln(original)) unless given.
void finish_longrope(const ConfigReader& c, ModelConfig& m) {
  RopeConfig& r = m.rope;
  if (r.original_max_position_embeddings <= 0)
    r.original_max_position_embeddings =
        c.get_or<int64_t>("original_max_position_embeddings", m.max_position_embeddings);
  if (r.original_max_position_embeddings <= 0)
    c.fail("original_max_position_embeddings", "must be positive");
  if (r.factor <= 0)
    r.factor = static_cast<double>(m.max_position_embeddings) /
               static_cast<double>(r.original_max_position_embeddings);
  if (r.attention_factor <= 0) {
    r.attention_factor =
        r.factor <= 1.0
            ? 1.0
            : std::sqrt(1.0 + std::log(r.factor) / std::log(static_cast<double>(
                                                       r.original_max_position_embeddings)));
  }
  const auto rotary =
      static_cast<int64_t>(static_cast<double>(m.head_dim) * r.partial_rotary_factor);
  const auto half = static_cast<size_t>(rotary / 2);
  if (r.short_factor.size() != half)
    c.fail("rope_parameters.short_factor", "must have rotary_dim/2 entries");
  if (r.long_factor.size() != half)
    c.fail("rope_parameters.long_factor", "must have rotary_dim/2 entries");
}

class Phi3 : public Architecture {
 public:
  std::vector<std::string> hf_names() const override { return {"Phi3ForCausalLM"}; }
  const std::vector<LinearName>& linear_names() const override { return phi3_linear_names(); }
  const std::vector<NormName>& norm_names() const override { return llama_norm_names(); }
  const std::vector<FusedName>& fused_names() const override {
    static const std::vector<FusedName> kFused = {
        {"self_attn.qkv_proj", "attn_qkv", {LinearRole::kQ, LinearRole::kK, LinearRole::kV}},
        {"mlp.gate_up_proj", "ffn_up", {LinearRole::kGate, LinearRole::kUp}}};
    return kFused;
  }

  std::string gguf_export_name() const override { return "phi3"; }

  // convert_hf_to_gguf.py's Phi3MiniModel: LongRoPE as the original context, the attention factor
  // and the short / long factors as F32 tensors; llama.cpp's phi3 honours the sliding window.
  void gguf_export_metadata(const ModelConfig& m, io::GgufWriter& w,
                            std::vector<std::string>& notes) const override {
    llama_like_gguf_metadata(m, "phi3", w, notes, /*windows_supported=*/true);
    for (const auto& window : m.sliding_window) {
      if (window) w.set_u32("phi3.attention.sliding_window", *window);
    }
    if (m.rope.type != "longrope") return;
    w.set_u32("phi3.rope.scaling.original_context_length", m.rope.original_max_position_embeddings);
    w.set_f32("phi3.rope.scaling.attn_factor", m.rope.attention_factor);
    for (const auto& [name, factors] : {std::pair{"rope_factors_long.weight", &m.rope.long_factor},
                                        {"rope_factors_short.weight", &m.rope.short_factor}}) {
      std::vector<std::uint8_t> bytes(factors->size() * sizeof(float));
      for (size_t i = 0; i < factors->size(); ++i) {
        const auto f = static_cast<float>((*factors)[i]);
        std::memcpy(bytes.data() + i * sizeof(float), &f, sizeof(float));
      }
      w.add_tensor(name, io::GgmlType::kF32, {static_cast<std::int64_t>(factors->size())},
                   std::move(bytes));
    }
    notes.push_back(
        "llama.cpp picks Phi-3's long or short RoPE factors once per context size (long when the "
        "context exceeds the original one), transformers and slmquant per forward call");
  }

  void parse_config(const ConfigReader& c, ModelConfig& m) const override {
    m.qkv_bias = m.o_bias = m.mlp_bias = false;
    read_rope(c, m);
    read_activation(c, m, {"silu"});
    if (m.rope.type == "longrope") finish_longrope(c, m);
    if (!c.has("layer_types") && c.has("sliding_window")) {
      const auto window = c.require<int64_t>("sliding_window");
      std::fill(m.sliding_window.begin(), m.sliding_window.end(), window);
    }
  }
};

}  // namespace

std::unique_ptr<Architecture> make_phi3() { return std::make_unique<Phi3>(); }

}  // namespace slmq::arch
