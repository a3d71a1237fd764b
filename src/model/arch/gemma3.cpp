// Gemma-3 text models (Gemma3ForCausalLM; GGUF general.architecture "gemma3"): four RMSNorms of
// the (1 + w) kind per block — before and after attention, before and after the MLP ("sandwich"),
// per-head q/k norms before RoPE, GELU-tanh MLP, embeddings scaled by sqrt(hidden), attention
// scaled by query_pre_attn_scalar^-0.5, and sliding-window layers with their own RoPE base
// (five local layers, then one global, by default).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "llama_family.h"
#include "registry.h"
#include "slmq/core/error.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/gguf_writer.h"
#include "slmq/model/config_reader.h"
#include "slmq/model/model_config.h"

namespace slmq::arch {
namespace {

const std::vector<NormName>& gemma3_norm_names() {
  static const std::vector<NormName> kNames = {
      {NormRole::kAttnIn, "input_layernorm", "attn_norm"},
      {NormRole::kAttnOut, "post_attention_layernorm", "post_attention_norm"},
      {NormRole::kMlpIn, "pre_feedforward_layernorm", "ffn_norm"},
      {NormRole::kMlpOut, "post_feedforward_layernorm", "post_ffw_norm"},
      {NormRole::kQ, "self_attn.q_norm", "attn_q_norm"},
      {NormRole::kK, "self_attn.k_norm", "attn_k_norm"}};
  return kNames;
}

constexpr double kGlobalTheta = 1000000.0;  // Gemma3TextConfig.default_theta
constexpr double kLocalTheta = 10000.0;

// transformers 5: rope_parameters keyed by layer type; 4.x: rope_theta, rope_local_base_freq and a
// rope_scaling that applies to the global layers only.
void read_gemma_rope(const ConfigReader& c, ModelConfig& m) {
  RopeConfig global, local;
  global.theta = c.get_or<double>("rope_theta", kGlobalTheta);
  local.theta = c.get_or<double>("rope_local_base_freq", kLocalTheta);
  if (c.has("rope_parameters")) {
    const ConfigReader p = c.child("rope_parameters");
    if (p.has("full_attention")) parse_rope_parameters(p.child("full_attention"), global);
    if (p.has("sliding_attention")) parse_rope_parameters(p.child("sliding_attention"), local);
    if (!p.has("full_attention") && !p.has("sliding_attention")) parse_rope_parameters(p, global);
  } else if (c.has("rope_scaling")) {
    parse_rope_parameters(c.child("rope_scaling"), global);
  }
  m.rope = global;
  m.local_rope = local;
}

void read_gemma_windows(const ConfigReader& c, ModelConfig& m) {
  if (c.has("layer_types")) return;
  const auto window = c.get_or<int64_t>("sliding_window", 4096);
  const auto pattern = c.get_or<int64_t>("sliding_window_pattern", 6);
  if (pattern <= 0) c.fail("sliding_window_pattern", "must be positive");
  for (int64_t i = 0; i < m.num_layers; ++i) {
    if ((i + 1) % pattern != 0) m.sliding_window[i] = window;
  }
}

// Gemma's generation_config stops on <end_of_turn> as well as <eos>; the GGUF records only <eos>.
void add_end_of_turn(const io::GgufFile& file, nlohmann::json& c) {
  const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  std::vector<int64_t> eos;
  if (c.contains("eos_token_id")) eos.push_back(c["eos_token_id"].get<int64_t>());
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (tokens[id] == "<end_of_turn>") {
      if (std::find(eos.begin(), eos.end(), static_cast<int64_t>(id)) == eos.end())
        eos.push_back(static_cast<int64_t>(id));
      break;
    }
  }
  if (!eos.empty()) c["eos_token_id"] = eos;
}

class Gemma3 : public Architecture {
 public:
  std::vector<std::string> hf_names() const override { return {"Gemma3ForCausalLM"}; }
  std::vector<std::string> gguf_names() const override { return {"gemma3"}; }
  const std::vector<LinearName>& linear_names() const override { return llama_linear_names(); }
  const std::vector<NormName>& norm_names() const override { return gemma3_norm_names(); }

  void parse_config(const ConfigReader& c, ModelConfig& m) const override {
    read_llama_biases(c, m);
    m.mlp_bias = false;
    read_activation(c, m, {"gelu_pytorch_tanh"}, "hidden_activation");
    m.norm_kind = NormKind::kRmsOnePlus;
    m.embedding_multiplier = std::sqrt(static_cast<double>(m.hidden_size));
    m.query_pre_attn_scalar = c.get_or<double>("query_pre_attn_scalar", 256.0);
    if (c.has("final_logit_softcapping"))
      m.final_logit_softcapping = c.require<double>("final_logit_softcapping");
    if (c.has("attn_logit_softcapping")) {
      throw UnsupportedError("'" + c.source() +
                             "': attn_logit_softcapping is not supported (Gemma-3 has none)");
    }
    if (c.get_or<bool>("use_bidirectional_attention", false)) {
      throw UnsupportedError("'" + c.source() +
                             "': use_bidirectional_attention is not supported (decoders only)");
    }
    read_gemma_rope(c, m);
    read_gemma_windows(c, m);
  }

  // llama.cpp's converter hard-codes what transformers reads from the config: the local RoPE
  // base 10000, the 5:1 pattern, and (for every size but 27B) attention scaled by head_dim.
  nlohmann::json gguf_config(const io::GgufFile& file) const override {
    nlohmann::json c = llama_like_gguf_config(file, "gemma3");
    c["architectures"] = {"Gemma3ForCausalLM"};
    c["model_type"] = "gemma3_text";
    c.erase("hidden_act");
    c["hidden_activation"] = "gelu_pytorch_tanh";
    c["query_pre_attn_scalar"] = c["head_dim"];
    c["rope_local_base_freq"] = kLocalTheta;
    c["sliding_window_pattern"] = 6;
    c.erase("rope_parameters");
    if (c["rope_scaling"].is_null()) c.erase("rope_scaling");
    if (auto window = file.find_uint("gemma3.attention.sliding_window"))
      c["sliding_window"] = *window;
    if (auto cap = file.find_double("gemma3.final_logit_softcapping"))
      c["final_logit_softcapping"] = *cap;
    add_end_of_turn(file, c);
    return c;
  }

  // llama.cpp's gemma3 loader hard-codes what gguf_config above restores; a model that differs
  // would compute something else there.
  void gguf_export_metadata(const ModelConfig& m, io::GgufWriter& w,
                            std::vector<std::string>& notes) const override {
    auto refuse = [&](const std::string& what) {
      throw UnsupportedError("GGUF export of Gemma3ForCausalLM: " + what +
                             "; llama.cpp's gemma3 architecture cannot represent it");
    };
    if (m.query_pre_attn_scalar.value_or(static_cast<double>(m.head_dim)) !=
        static_cast<double>(m.head_dim))
      refuse(fmt::format("query_pre_attn_scalar {} differs from head_dim {}",
                         *m.query_pre_attn_scalar, m.head_dim));
    std::optional<int64_t> window;
    for (int64_t i = 0; i < m.num_layers; ++i) {
      const auto& wi = m.sliding_window[static_cast<size_t>(i)];
      if (wi.has_value() != ((i + 1) % 6 != 0))
        refuse(fmt::format("layer {} is {} (llama.cpp: five sliding layers, then one global)", i,
                           wi ? "sliding" : "global"));
      if (wi && window && *wi != *window) refuse("sliding windows of different sizes");
      if (wi) window = wi;
    }
    const RopeConfig local = m.local_rope.value_or(m.rope);
    if (local.type != "default" || local.theta != kLocalTheta)
      refuse(fmt::format("the sliding layers' RoPE ({} base {}) is not the default base {}",
                         local.type, local.theta, kLocalTheta));
    llama_like_gguf_metadata(m, "gemma3", w, notes, /*windows_supported=*/true);
    if (window) w.set_u32("gemma3.attention.sliding_window", *window);
    if (m.final_logit_softcapping)
      w.set_f32("gemma3.final_logit_softcapping", *m.final_logit_softcapping);
  }
  float gguf_norm_offset() const override { return 1.0f; }

  // The converter stores every norm weight as 1 + w (llama.cpp applies plain x * w).
  void gguf_tensor_to_hf(const std::string& hf_name, const nlohmann::json&,
                         std::vector<float>& data, int64_t, int64_t) const override {
    if (hf_name.ends_with("norm.weight"))
      for (float& v : data) v -= 1.0f;
  }
};

}  // namespace

std::unique_ptr<Architecture> make_gemma3() { return std::make_unique<Gemma3>(); }

}  // namespace slmq::arch
