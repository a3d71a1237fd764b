// Llama (and SmolLM2, Llama-3.x): RMSNorm, SiLU, rotary GQA attention; optional biases.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "llama_family.h"
#include "registry.h"
#include "slmq/core/error.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/gguf_model.h"
#include "slmq/model/config_reader.h"
#include "slmq/model/model_config.h"

namespace slmq::arch {
namespace {

// llama.cpp's converter stores Llama-3.1+ RoPE scaling as a rope_freqs tensor of per-frequency
// divisors instead of metadata; it becomes rope type "factors" with the same values.
void add_rope_freqs(const io::GgufFile& file, nlohmann::json& c) {
  const io::GgufTensorInfo* freqs = file.find_tensor("rope_freqs.weight");
  if (freqs == nullptr) return;
  std::vector<float> values = file.dequantize(*freqs);
  const auto half = c["head_dim"].get<std::int64_t>() / 2;
  if (static_cast<std::int64_t>(values.size()) != half) {
    throw DataError(fmt::format("GGUF '{}': tensor 'rope_freqs.weight' has {} values, expected {}",
                                file.path().string(), values.size(), half));
  }
  c["rope_parameters"]["rope_type"] = "factors";
  c["rope_parameters"]["freq_factors"] = std::vector<double>(values.begin(), values.end());
}

class Llama : public Architecture {
 public:
  std::vector<std::string> hf_names() const override { return {"LlamaForCausalLM"}; }
  std::vector<std::string> gguf_names() const override { return {"llama"}; }
  const std::vector<LinearName>& linear_names() const override { return llama_linear_names(); }
  const std::vector<NormName>& norm_names() const override { return llama_norm_names(); }

  void parse_config(const ConfigReader& c, ModelConfig& m) const override {
    read_llama_biases(c, m);
    read_rope(c, m);
    read_activation(c, m, {"silu"});
  }

  nlohmann::json gguf_config(const io::GgufFile& file) const override {
    nlohmann::json c = llama_like_gguf_config(file, "llama");
    // llama.cpp stores Mistral as "llama"; transformers tells them apart by the model name.
    std::string name = file.find_string("general.name").value_or("");
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const bool mistral = name.find("mistral") != std::string::npos;
    c["architectures"] = {mistral ? "MistralForCausalLM" : "LlamaForCausalLM"};
    c["model_type"] = mistral ? "mistral" : "llama";
    if (!file.find_uint("llama.attention.key_length")) {
      if (auto dims = file.find_uint("llama.rope.dimension_count")) c["head_dim"] = *dims;
    }
    c["attention_bias"] = file.find_tensor("blk.0.attn_q.bias") != nullptr;
    c["mlp_bias"] = false;
    add_rope_freqs(file, c);
    return c;
  }

  // llama.cpp's converter permutes the rows of q and k (LlamaModel.permute); undo it.
  void gguf_tensor_to_hf(const std::string& hf_name, const nlohmann::json& config,
                         std::vector<float>& data, int64_t rows, int64_t cols) const override {
    if (const int64_t heads = permuted_heads(hf_name, config); heads > 0)
      io::unpermute_qk_rows(data, rows, cols, heads);
  }

  std::vector<int64_t> gguf_row_order(const std::string& hf_name, const ModelConfig& m,
                                      int64_t rows) const override {
    if (hf_name.find(".self_attn.q_proj.") != std::string::npos)
      return permuted_qk_order(rows, m.num_heads);
    if (hf_name.find(".self_attn.k_proj.") != std::string::npos)
      return permuted_qk_order(rows, m.num_kv_heads);
    return {};
  }

  std::optional<std::string> gguf_tensor_problem(const std::string& hf_name,
                                                 const nlohmann::json& config,
                                                 int64_t rows) const override {
    const int64_t heads = permuted_heads(hf_name, config);
    if (heads > 0 && rows % (2 * heads) != 0)
      return fmt::format("{} rows cannot be split into {} heads", rows, heads);
    return std::nullopt;
  }

 private:
  static int64_t permuted_heads(const std::string& hf_name, const nlohmann::json& config) {
    if (hf_name.find(".self_attn.q_proj.") != std::string::npos)
      return config["num_attention_heads"].get<int64_t>();
    if (hf_name.find(".self_attn.k_proj.") != std::string::npos)
      return config["num_key_value_heads"].get<int64_t>();
    return 0;
  }
};

// Mistral: the Llama block with a sliding window on every layer (when set).
class Mistral : public Llama {
 public:
  std::vector<std::string> hf_names() const override { return {"MistralForCausalLM"}; }
  std::vector<std::string> gguf_names() const override { return {}; }
  std::string gguf_export_name() const override { return "llama"; }  // as llama.cpp stores it
  void parse_config(const ConfigReader& c, ModelConfig& m) const override {
    Llama::parse_config(c, m);
    if (!c.has("layer_types") && c.has("sliding_window")) {
      const auto window = c.require<int64_t>("sliding_window");
      std::fill(m.sliding_window.begin(), m.sliding_window.end(), window);
    }
  }
};

}  // namespace

std::unique_ptr<Architecture> make_llama() { return std::make_unique<Llama>(); }
std::unique_ptr<Architecture> make_mistral() { return std::make_unique<Mistral>(); }

}  // namespace slmq::arch
