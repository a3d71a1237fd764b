#pragma once
// Tensors as ggml blocks for the GGUF writer (internal to src/export): a quantized weight's codes
// kept where a block type represents them exactly, requantized or refused otherwise; dense
// tensors cast. Rows are written in `order` (file row r = source row order[r]; empty: as is).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "slmq/io/ggml_types.h"
#include "slmq/quant/packed_weight.h"

namespace slmq::gguf_export {

struct EncodedTensor {
  io::GgmlType type = io::GgmlType::kF32;
  std::vector<std::uint8_t> bytes;
  std::vector<std::int64_t> shape;  // torch order
  std::string mapping;              // "exact", "requantized", "dense"
  double relative_error = 0.0;      // against the source values (see GgufTensorRecord)
  std::string note;                 // set for requantized tensors: why
};

// The block type that stores `w` exactly, or the reason none does with the nearest exact setting.
struct ExactChoice {
  bool exact = false;
  io::GgmlType type = io::GgmlType::kQ4_1;
  std::string reason;  // when !exact
};
ExactChoice exact_block_type(const PackedWeight& w);

// `w` as blocks: exact when exact_block_type says so; otherwise, with `requantize`, its
// dequantized values through ggml's reference Q4_1 (bits <= 4) or Q8_0 quantizer, else
// UnsupportedError naming `name` and the nearest exact setting.
EncodedTensor encode_quantized(const PackedWeight& w, const std::vector<std::int64_t>& order,
                               bool requantize, const std::string& name);

// A dense tensor (any float dtype, 1-D or 2-D) as `type` (F32, F16, BF16; a 2-D tensor whose rows
// are not whole blocks of a quantized type falls back to F16), `offset` added first (Gemma norms).
EncodedTensor encode_dense(const at::Tensor& t, io::GgmlType type,
                           const std::vector<std::int64_t>& order, float offset = 0.0f);

// Rows of several encoded tensors of one type stacked (fused projections); UnsupportedError
// naming `name` when their types differ.
EncodedTensor stack_rows(std::vector<EncodedTensor> parts, const std::string& name);

}  // namespace slmq::gguf_export
