#pragma once
// Builds a Model from a checkpoint: the tensors are checked against the shapes the config
// implies (llama.cpp-style), converted to the compute dtype and moved to the device.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "slmq/model/model.h"

namespace slmq {

struct LoadOptions {
  c10::ScalarType dtype = c10::kFloat;
  c10::Device device = c10::Device(c10::kCPU);
};

// Named tensors a model is built from: an HF safetensors checkpoint, later a GGUF file.
class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool contains(const std::string& name) const = 0;
  virtual at::Tensor load(const std::string& name) const = 0;  // CPU, stored dtype
  virtual std::vector<std::string> names() const = 0;
  virtual std::string describe() const = 0;  // for error messages: the file or folder
};

// Builds the linears a checkpoint stores quantized (compressed-tensors); the others load dense.
class LinearLoader {
 public:
  virtual ~LinearLoader() = default;
  // The backend of linear `prefix` ("model.layers.0.self_attn.q_proj") of shape [out, in], with
  // `bias` already loaded in the compute dtype (or undefined); nullptr when it is stored dense.
  // Throws DataError naming the tensor for missing or malformed tensors.
  virtual std::unique_ptr<LinearBackend> load(const std::string& prefix, int64_t out, int64_t in,
                                              at::Tensor bias, const WeightSource& weights,
                                              const LoadOptions& options) const = 0;
};

// What a model path holds, opened but with no tensor read yet. A path is either an HF checkpoint
// folder (config.json, model.safetensors or model.safetensors.index.json, optional
// generation_config.json, tokenizer.json, tokenizer_config.json) or a GGUF file, whose metadata
// becomes the same config and tokenizer JSON and whose tensors are dequantized to fp32 on load.
struct ModelSource {
  std::filesystem::path path;
  nlohmann::json hf_config;  // config.json content (synthesized for GGUF)
  ModelConfig config;        // parsed from hf_config (+ generation_config.json)
  std::unique_ptr<WeightSource> weights;
  nlohmann::json tokenizer;         // tokenizer.json content; null when there is none
  nlohmann::json tokenizer_config;  // tokenizer_config.json content; null when there is none
  // Set when config.json has a compressed-tensors quantization_config.
  std::shared_ptr<const LinearLoader> linear_loader;
};

// Throws DataError for a path that is neither, or malformed files (named); UnsupportedError for a
// quantization_config slmquant cannot load (only compressed-tensors, compressed, is).
ModelSource open_model_source(const std::filesystem::path& path);

// Throws DataError naming the source and tensor for a missing tensor or a wrong shape.
// `linears` (may be null) builds the quantized linears.
std::unique_ptr<Model> build_model(const ModelConfig& config, const WeightSource& weights,
                                   const LoadOptions& options,
                                   const LinearLoader* linears = nullptr);

std::unique_ptr<Model> load_model(const std::filesystem::path& path, const LoadOptions& options);

}  // namespace slmq
