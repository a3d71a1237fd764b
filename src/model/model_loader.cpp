#include "slmq/model/model_loader.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <set>

#include "slmq/core/error.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/gguf_model.h"

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
  GgufSource(std::filesystem::path path, GgufModelFiles files)
      : path_(std::move(path)), files_(std::move(files)) {}
  bool contains(const std::string& name) const override { return files_.weights.count(name) > 0; }
  at::Tensor load(const std::string& name) const override {
    const GgufWeight& w = files_.weights.at(name);
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
  GgufModelFiles files_;
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
    // An integer tensor would be cast to float silently and compute nonsense.
    if (!at::isFloatingType(t.scalar_type())) {
      throw DataError("'" + source_.describe() + "': tensor '" + name + "' has dtype " +
                      std::string(c10::toString(t.scalar_type())) +
                      "; a floating-point weight is expected");
    }
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

  // Whether the quantized-linear loader stores `prefix` (a compressed-tensors linear).
  bool quantized(const std::string& prefix) const {
    return linears_ != nullptr && source_.contains(prefix + ".weight_scale");
  }
  std::string describe() const { return source_.describe(); }

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

struct LinearShape {
  int64_t out, in;
  bool bias;
};

LinearShape linear_shape(LinearRole role, const ModelConfig& c) {
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  switch (role) {
    case LinearRole::kQ:
      return {q_out, c.hidden_size, c.qkv_bias};
    case LinearRole::kK:
    case LinearRole::kV:
      return {kv_out, c.hidden_size, c.qkv_bias};
    case LinearRole::kO:
      return {c.hidden_size, q_out, c.o_bias};
    case LinearRole::kGate:
    case LinearRole::kUp:
      return {c.intermediate_size, c.hidden_size, c.mlp_bias};
    case LinearRole::kDown:
      return {c.hidden_size, c.intermediate_size, c.mlp_bias};
  }
  throw InternalError("linear_shape: unknown role");
}

int64_t norm_size(NormRole role, const ModelConfig& c) {
  return role == NormRole::kQ || role == NormRole::kK ? c.head_dim : c.hidden_size;
}

// A fused tensor split by output rows into its parts' dense linears.
void load_fused(TensorFetcher& f, const std::string& p, const FusedName& fused,
                const ModelConfig& c, DecoderLayerWeights& w) {
  int64_t total = 0;
  const int64_t in = linear_shape(fused.parts.front(), c).in;
  for (LinearRole role : fused.parts) total += linear_shape(role, c).out;
  const bool bias = linear_shape(fused.parts.front(), c).bias;
  at::Tensor weight = f.get(p + fused.hf + ".weight", {total, in});
  at::Tensor b = f.get_if(bias, p + fused.hf + ".bias", {total});
  int64_t row = 0;
  for (LinearRole role : fused.parts) {
    const int64_t rows = linear_shape(role, c).out;
    w.linear(role) = std::make_unique<DenseLinear>(
        weight.narrow(0, row, rows).contiguous(),
        b.defined() ? b.narrow(0, row, rows).contiguous() : at::Tensor());
    row += rows;
  }
}

DecoderLayerWeights layer_weights(TensorFetcher& f, const ModelConfig& c, int64_t i) {
  const Architecture& arch = c.arch();
  const std::string p = "model.layers." + std::to_string(i) + ".";
  DecoderLayerWeights w;
  for (const NormName& n : arch.norm_names())
    w.norm(n.role) = f.get(p + n.hf + ".weight", {norm_size(n.role, c)});
  for (const FusedName& fused : arch.fused_names()) {
    if (f.quantized(p + fused.hf)) {
      throw UnsupportedError("'" + f.describe() + "': " + p + fused.hf +
                             " is stored quantized and fused; splitting quantized fused "
                             "projections is not supported");
    }
    load_fused(f, p, fused, c, w);
  }
  for (const LinearName& l : arch.linear_names()) {
    if (w.linear(l.role)) continue;  // from a fused tensor
    const LinearShape s = linear_shape(l.role, c);
    w.linear(l.role) = f.linear(p + l.hf, s.out, s.in, s.bias);
  }
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
  auto model = std::make_unique<Model>(config, std::move(w), options.dtype, options.device);
  if (linears != nullptr) linears->finish(*model);
  return model;
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
    src.linear_loader = quantized(src.hf_config, config_path.string());
  return src;
}

ModelSource open_gguf_file(const std::filesystem::path& path) {
  GgufModelFiles files = load_gguf_model_files(path);
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
