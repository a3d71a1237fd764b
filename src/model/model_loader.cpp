#include "slmq/model/model_loader.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <set>

#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"

namespace slmq {
namespace {

class CheckpointSource final : public WeightSource {
 public:
  explicit CheckpointSource(const std::filesystem::path& folder)
      : folder_(folder), ckpt_(SafetensorsCheckpoint::open(folder)) {}
  bool contains(const std::string& name) const override { return ckpt_.find(name) != nullptr; }
  at::Tensor load(const std::string& name) const override { return ckpt_.load(name); }
  std::vector<std::string> names() const override { return ckpt_.tensor_names(); }
  std::string describe() const override { return folder_.string(); }

 private:
  std::filesystem::path folder_;
  SafetensorsCheckpoint ckpt_;
};

// GGUF tensors, dequantized to fp32 when loaded (the compute dtype conversion follows).
class GgufSource final : public WeightSource {
 public:
  GgufSource(std::filesystem::path path, io::GgufModelFiles files)
      : path_(std::move(path)), files_(std::move(files)) {}
  bool contains(const std::string& name) const override { return files_.weights.count(name) > 0; }
  at::Tensor load(const std::string& name) const override {
    const io::GgufWeight& w = files_.weights.at(name);
    std::vector<float> values = w.load();
    return at::from_blob(values.data(), w.shape, at::kFloat).clone();
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, w] : files_.weights) out.push_back(name);
    return out;
  }
  std::string describe() const override { return path_.string(); }

 private:
  std::filesystem::path path_;
  io::GgufModelFiles files_;
};

class TensorFetcher {
 public:
  TensorFetcher(const WeightSource& source, const LoadOptions& options, const LinearLoader* linears)
      : source_(source), options_(options), linears_(linears) {}

  at::Tensor get(const std::string& name, std::vector<int64_t> shape) {
    used_.insert(name);
    if (!source_.contains(name)) {
      throw DataError("'" + source_.describe() + "': tensor '" + name + "' is missing");
    }
    at::Tensor t = source_.load(name);
    if (t.sizes().vec() != shape) {
      throw DataError("'" + source_.describe() + "': tensor '" + name + "' has shape " +
                      c10::str(t.sizes()) + ", expected " + c10::str(at::IntArrayRef(shape)));
    }
    return t.to(options_.device, options_.dtype).contiguous();
  }

  at::Tensor get_if(bool wanted, const std::string& name, std::vector<int64_t> shape) {
    return wanted ? get(name, std::move(shape)) : at::Tensor();
  }

  std::unique_ptr<LinearBackend> linear(const std::string& prefix, int64_t out, int64_t in,
                                        bool bias) {
    at::Tensor b = get_if(bias, prefix + ".bias", {out});
    if (linears_ != nullptr) {
      if (auto quantized = linears_->load(prefix, out, in, b, source_, options_)) {
        mark_used_under(prefix + ".");
        return quantized;
      }
    }
    return std::make_unique<DenseLinear>(get(prefix + ".weight", {out, in}), b);
  }

  void mark_used_under(const std::string& prefix) {
    for (const auto& name : source_.names()) {
      if (name.rfind(prefix, 0) == 0) used_.insert(name);
    }
  }

  void log_unused() const {
    for (const auto& name : source_.names()) {
      if (!used_.count(name)) spdlog::debug("{}: ignoring tensor '{}'", source_.describe(), name);
    }
  }

 private:
  const WeightSource& source_;
  const LoadOptions& options_;
  const LinearLoader* linears_;
  std::set<std::string> used_;
};

DecoderLayerWeights layer_weights(TensorFetcher& f, const ModelConfig& c, int64_t i) {
  const std::string p = "model.layers." + std::to_string(i) + ".";
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  DecoderLayerWeights w;
  w.input_norm = f.get(p + "input_layernorm.weight", {c.hidden_size});
  w.post_attention_norm = f.get(p + "post_attention_layernorm.weight", {c.hidden_size});
  w.q_proj = f.linear(p + "self_attn.q_proj", q_out, c.hidden_size, c.qkv_bias);
  w.k_proj = f.linear(p + "self_attn.k_proj", kv_out, c.hidden_size, c.qkv_bias);
  w.v_proj = f.linear(p + "self_attn.v_proj", kv_out, c.hidden_size, c.qkv_bias);
  w.o_proj = f.linear(p + "self_attn.o_proj", c.hidden_size, q_out, c.o_bias);
  w.gate_proj = f.linear(p + "mlp.gate_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
  w.up_proj = f.linear(p + "mlp.up_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
  w.down_proj = f.linear(p + "mlp.down_proj", c.hidden_size, c.intermediate_size, c.mlp_bias);
  return w;
}

}  // namespace

std::unique_ptr<Model> build_model(const ModelConfig& config, const WeightSource& source,
                                   const LoadOptions& options, const LinearLoader* linears) {
  TensorFetcher f(source, options, linears);
  ModelWeights w;
  w.embed_tokens = f.get("model.embed_tokens.weight", {config.vocab_size, config.hidden_size});
  for (int64_t i = 0; i < config.num_layers; ++i) w.layers.push_back(layer_weights(f, config, i));
  w.final_norm = f.get("model.norm.weight", {config.hidden_size});
  w.lm_head = config.tie_word_embeddings
                  ? std::make_unique<DenseLinear>(w.embed_tokens, at::Tensor())
                  : f.linear("lm_head", config.vocab_size, config.hidden_size, false);
  f.log_unused();
  return std::make_unique<Model>(config, std::move(w), options.dtype, options.device);
}

namespace {

nlohmann::json read_json_if_present(const std::filesystem::path& path) {
  return std::filesystem::exists(path) ? read_json_file(path) : nlohmann::json();
}

ModelSource open_checkpoint_folder(const std::filesystem::path& path,
                                   const QuantizedFormats& quantized) {
  ModelSource src;
  src.path = path;
  auto config_path = path / "config.json";
  src.hf_config = read_json_file(config_path);
  src.config = parse_hf_config(src.hf_config, config_path.string());
  auto generation_path = path / "generation_config.json";
  if (std::filesystem::exists(generation_path)) {
    apply_generation_config(src.config, read_json_file(generation_path), generation_path.string());
  }
  src.weights = std::make_unique<CheckpointSource>(path);
  src.tokenizer = read_json_if_present(path / "tokenizer.json");
  src.tokenizer_config = read_json_if_present(path / "tokenizer_config.json");
  if (src.hf_config.contains("quantization_config") && quantized)
    src.linear_loader = quantized(src.hf_config["quantization_config"], config_path.string());
  return src;
}

ModelSource open_gguf_file(const std::filesystem::path& path) {
  io::GgufModelFiles files = io::load_gguf_model_files(path);
  ModelSource src;
  src.path = path;
  src.hf_config = files.config;
  src.config = parse_hf_config(src.hf_config, path.string() + " (metadata)");
  src.tokenizer = std::move(files.tokenizer);
  src.tokenizer_config = std::move(files.tokenizer_config);
  src.weights = std::make_unique<GgufSource>(path, std::move(files));
  return src;
}

}  // namespace

ModelSource open_model_source(const std::filesystem::path& path,
                              const QuantizedFormats& quantized) {
  if (std::filesystem::is_directory(path)) return open_checkpoint_folder(path, quantized);
  if (std::filesystem::is_regular_file(path) && path.extension() == ".gguf")
    return open_gguf_file(path);
  throw DataError("model '" + path.string() +
                  "' is neither a checkpoint folder (config.json + safetensors) nor a .gguf file");
}

std::unique_ptr<Model> load_model(const std::filesystem::path& path, const LoadOptions& options,
                                  const QuantizedFormats& quantized) {
  ModelSource src = open_model_source(path, quantized);
  if (src.hf_config.contains("quantization_config") && !src.linear_loader) {
    throw UnsupportedError("model '" + path.string() +
                           "' is a quantized checkpoint (quantization_config) and no quantized "
                           "format was given to read it with");
  }
  return build_model(src.config, *src.weights, options, src.linear_loader.get());
}

}  // namespace slmq
