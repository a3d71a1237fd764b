#pragma once
// Builds a Model from a checkpoint: the tensors are checked against the shapes the config
// implies (llama.cpp-style), converted to the compute dtype and moved to the device.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
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
  // Called by build_model once the model is built, for what the checkpoint declares beyond its
  // linears (slmquant's online rotations and KV quantizers, compressed_tensors.h). Default: none.
  virtual void finish(Model& model) const {}
};

// Builds the LinearLoader of a checkpoint whose config.json (`hf_config`, the whole file) has a
// "quantization_config" (`where` names the file for errors); the format may read other keys of it
// (slmquant's online transforms). The model module knows no quantized format: the pipeline passes
// the ones slmquant reads (pipeline/model_open.h), so model/ never depends on their readers.
using QuantizedFormats = std::function<std::shared_ptr<const LinearLoader>(
    const nlohmann::json& hf_config, const std::string& where)>;

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
  // Set when config.json has a quantization_config and `quantized` formats were given.
  std::shared_ptr<const LinearLoader> linear_loader;
};

// Throws DataError for a path that is neither, or malformed files (named); `quantized` throws
// UnsupportedError for a quantization_config it cannot load. Without `quantized` a quantized
// checkpoint opens with no linear_loader (its config and tokenizer are still usable).
ModelSource open_model_source(const std::filesystem::path& path,
                              const QuantizedFormats& quantized = {});

// Throws DataError naming the source and tensor for a missing tensor or a wrong shape.
// `linears` (may be null) builds the quantized linears.
std::unique_ptr<Model> build_model(const ModelConfig& config, const WeightSource& weights,
                                   const LoadOptions& options,
                                   const LinearLoader* linears = nullptr);

// open_model_source + build_model. UnsupportedError for a quantized checkpoint without
// `quantized` formats (pipeline/model_open.h's load_any_model passes slmquant's).
std::unique_ptr<Model> load_model(const std::filesystem::path& path, const LoadOptions& options,
                                  const QuantizedFormats& quantized = {});

}  // namespace slmq
