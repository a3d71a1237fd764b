// Qwen2 / Qwen2.5 (q/k/v bias, none on o_proj) and Qwen3 (no biases; per-head q/k RMSNorm before
// RoPE). Both: the Llama block otherwise, sliding windows from max_window_layers when enabled.
#include <algorithm>

#include "llama_family.h"
#include "registry.h"
#include "slmq/model/config_reader.h"
#include "slmq/model/model_config.h"

namespace slmq::arch {
namespace {

// Older configs without layer_types: use_sliding_window enables the window from layer
// max_window_layers on (transformers' Qwen2Config/Qwen3Config).
void read_qwen_windows(const ConfigReader& c, ModelConfig& m) {
  if (c.has("layer_types") || !c.get_or<bool>("use_sliding_window", false) ||
      !c.has("sliding_window"))
    return;
  const auto window = c.require<int64_t>("sliding_window");
  const int64_t first = c.get_or<int64_t>("max_window_layers", m.num_layers);
  for (int64_t i = std::max<int64_t>(first, 0); i < m.num_layers; ++i) m.sliding_window[i] = window;
}

class Qwen2 : public Architecture {
 public:
  std::vector<std::string> hf_names() const override { return {"Qwen2ForCausalLM"}; }
  std::vector<std::string> gguf_names() const override { return {"qwen2"}; }
  const std::vector<LinearName>& linear_names() const override { return llama_linear_names(); }
  const std::vector<NormName>& norm_names() const override { return llama_norm_names(); }

  void parse_config(const ConfigReader& c, ModelConfig& m) const override {
    m.qkv_bias = true;  // Qwen2 always has q/k/v bias and none on o_proj
    m.o_bias = m.mlp_bias = false;
    read_rope(c, m);
    read_activation(c, m, {"silu"});
    read_qwen_windows(c, m);
  }

  nlohmann::json gguf_config(const io::GgufFile& file) const override {
    nlohmann::json c = llama_like_gguf_config(file, "qwen2");
    c["architectures"] = {"Qwen2ForCausalLM"};
    c["model_type"] = "qwen2";
    c["head_dim"] = c["hidden_size"].get<int64_t>() / c["num_attention_heads"].get<int64_t>();
    c["use_sliding_window"] = false;
    return c;
  }
};

class Qwen3 : public Architecture {
 public:
  std::vector<std::string> hf_names() const override { return {"Qwen3ForCausalLM"}; }
  std::vector<std::string> gguf_names() const override { return {"qwen3"}; }
  const std::vector<LinearName>& linear_names() const override { return llama_linear_names(); }
  const std::vector<NormName>& norm_names() const override { return llama_norm_names_with_qk(); }

  void parse_config(const ConfigReader& c, ModelConfig& m) const override {
    read_llama_biases(c, m);
    m.mlp_bias = false;
    read_rope(c, m);
    read_activation(c, m, {"silu"});
    read_qwen_windows(c, m);
  }

  nlohmann::json gguf_config(const io::GgufFile& file) const override {
    nlohmann::json c = llama_like_gguf_config(file, "qwen3");
    c["architectures"] = {"Qwen3ForCausalLM"};
    c["model_type"] = "qwen3";
    c["attention_bias"] = false;
    c["use_sliding_window"] = false;
    return c;
  }
};

}  // namespace

std::unique_ptr<Architecture> make_qwen2() { return std::make_unique<Qwen2>(); }
std::unique_ptr<Architecture> make_qwen3() { return std::make_unique<Qwen3>(); }

}  // namespace slmq::arch
