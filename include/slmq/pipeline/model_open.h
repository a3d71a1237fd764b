#pragma once
// Model paths opened with every checkpoint format slmquant reads wired to its backend: a
// config.json "quantization_config" in compressed-tensors form loads as FakeQuantLinears
// (export/compressed_tensors.h). The model module itself knows no quantized format; front ends
// and the pipeline open models here.
#include <filesystem>
#include <memory>

#include "slmq/model/model_loader.h"

namespace slmq {

// The quantized-checkpoint formats: compressed-tensors (quant_method "compressed-tensors",
// status "compressed"). Throws UnsupportedError for other formats, naming the file.
const QuantizedFormats& quantized_checkpoint_formats();

// open_model_source with quantized_checkpoint_formats().
ModelSource open_model(const std::filesystem::path& path);

// load_model with quantized_checkpoint_formats(): an HF folder (dense or compressed-tensors) or a
// GGUF file.
std::unique_ptr<Model> load_any_model(const std::filesystem::path& path,
                                      const LoadOptions& options);

}  // namespace slmq
