#pragma once
// Sub-byte integer codes stored at their true width: b-bit values packed densely into int32
// words, element i of a row at bit i·b of the row's bit stream (little-endian words), a value
// straddling two words split between them — compressed-tensors' pack_to_int32 layout, so a packed
// weight is written to a pack-quantized checkpoint as it is. 8-bit codes are kept one per byte.
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "slmq/quant/quantizer.h"

namespace slmq {

// values [rows, cols], any integer dtype, each in [0, 2^bits) -> [rows, ceil(cols·bits/32)] int32.
// bits in 1..8. Throws InternalError for values out of range.
at::Tensor pack_int32(const at::Tensor& values, int bits);
// words [rows, ceil(cols·bits/32)] int32 -> [rows, cols] uint8 in [0, 2^bits).
// Throws DataError when the word count does not match cols.
at::Tensor unpack_int32(const at::Tensor& words, int bits, int64_t cols);

// A QuantizedWeight with its codes at their storage width.
struct PackedWeight {
  // bits < 8: [out, ceil(in·bits/32)] int32 holding codes − code_range(spec).min (so unsigned
  // codes as they are, signed ones offset by 2^(bits−1), which is compressed-tensors' packed
  // form for both). bits == 8: the [out, in] int8/uint8 codes themselves.
  at::Tensor data;
  at::Tensor scales;  // as QuantizedWeight
  at::Tensor zeros;   // as QuantizedWeight
  QuantSpec spec;
  int64_t in_features = 0, out_features = 0;

  bool packed() const { return spec.bits < 8; }
};

PackedWeight pack_weight(QuantizedWeight q);
// The codes back in their QuantizedWeight dtype (int8 for signed ranges, uint8 for unsigned).
QuantizedWeight unpack_weight(const PackedWeight& p);
// [out, in] fp32 (q − z)·Δ straight from the stored codes: (u − (z − min))·Δ with u = q − min,
// the same fp32 integers, so bit-identical to dequantize(unpack_weight(p)). A single zero point
// (symmetric) is broadcast.
at::Tensor dequantize_packed(const PackedWeight& p);

}  // namespace slmq
