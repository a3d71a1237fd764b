#pragma once
// Builds a Model from a checkpoint: the tensors are checked against the shapes the config
// implies (llama.cpp-style), converted to the compute dtype and moved to the device.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

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

// Throws DataError naming the source and tensor for a missing tensor or a wrong shape.
std::unique_ptr<Model> build_model(const ModelConfig& config, const WeightSource& weights,
                                   const LoadOptions& options);

// An HF checkpoint folder: config.json, model.safetensors or model.safetensors.index.json, and
// optionally generation_config.json.
std::unique_ptr<Model> load_model(const std::filesystem::path& path, const LoadOptions& options);

// The model's config alone, without loading tensors.
ModelConfig load_model_config(const std::filesystem::path& path);

}  // namespace slmq
