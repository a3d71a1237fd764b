#pragma once
// Any model slmquant loads, quantized or not, written as a GGUF v3 file that llama.cpp (and
// Ollama, LM Studio) run: general.architecture and hyper-parameters from the model's family
// (Architecture::gguf_export_*), the tokenizer (tokenizer.ggml.*, chat template), and tensors
// under llama.cpp's names.
//
// Quantized linears map onto ggml blocks of 32 without rounding the codes again where the
// formats allow it: group sizes that are multiples of 32 (per-channel rows included) with
//   codes spanning at most 16 values  -> Q4_1 (d = Δ, m = (min − z)·Δ), or Q4_0 when the weights
//                                        are symmetric with codes − zero in [−8, 7];
//   symmetric, codes − zero in int8   -> Q8_0 (d = Δ).
// Only the fp16 rounding of d (and m) changes the dequantized values; the report gives the
// relative error against slmquant's own dequantization for every tensor. Other settings
// (asymmetric 5–8-bit, groups not a multiple of 32) are refused with the nearest exact setting, or
// with `requantize` the dequantized weights go through ggml's reference Q4_1 / Q8_0 quantizer
// (the report says so, with the error it adds). Norms, biases and RoPE factors are F32; the
// embedding and dense linears are `dense_type`.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "slmq/io/ggml_types.h"
#include "slmq/model/model.h"
#include "slmq/model/model_loader.h"

namespace slmq {

struct GgufExportOptions {
  io::GgmlType dense_type = io::GgmlType::kF32;  // F32, F16 or BF16
  bool requantize = false;  // inexact quantized linears: requantize instead of refusing
  std::string name;         // general.name; default: the source path's stem
};

struct GgufTensorRecord {
  std::string name;     // GGUF tensor name
  std::string type;     // "Q4_1", "F32", ...
  std::string mapping;  // "exact" (codes kept), "requantized", "dense"
  // ||file − slmquant||_F / ||slmquant||_F over the tensor (0 for F32 copies): for "exact" the
  // fp16 rounding of the block scales, for "requantized" the added rounding, for F16/BF16 the cast.
  double relative_error = 0.0;
};

struct GgufExportReport {
  std::filesystem::path path;
  std::string architecture;  // general.architecture written
  std::vector<GgufTensorRecord> tensors;
  std::vector<std::string> notes;  // what llama.cpp will compute differently, requantizations

  nlohmann::json to_json() const;
};

// Writes `model` (tokenizer and chat template from `source`: copied key for key from a GGUF
// source, converted from tokenizer.json otherwise) to `out` atomically. Throws UnsupportedError
// naming the tensor or setting llama.cpp cannot represent (online rotations, attention
// transforms, inexact quantizers without `requantize`, a tokenizer other than byte-level BPE from
// tokenizer.json), DataError when the source has no tokenizer.
GgufExportReport export_gguf(const Model& model, const ModelSource& source,
                             const std::filesystem::path& out, const GgufExportOptions& options);

// "f32"/"float32", "f16"/"float16", "bf16"/"bfloat16" -> the ggml type; ConfigError naming `key`.
io::GgmlType parse_gguf_dense_type(const std::string& name, const std::string& key);

}  // namespace slmq
