#pragma once
// Writes any model slmquant reads (HF folder or GGUF) as an HF checkpoint folder that
// transformers loads: config.json, model.safetensors, tokenizer.json, tokenizer_config.json.
#include <c10/core/ScalarType.h>

#include <filesystem>

#include "slmq/model/model_loader.h"

namespace slmq {

// Tensors are written in `dtype` (GGUF weights arrive dequantized to fp32). The folder appears
// whole or not at all: it is written beside `out` and renamed into place. Throws DataError when
// `out` exists and is not empty, UnsupportedError for a quantized (compressed-tensors) source.
void export_hf_folder(const ModelSource& source, const std::filesystem::path& out,
                      c10::ScalarType dtype);

}  // namespace slmq
