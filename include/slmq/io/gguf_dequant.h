#pragma once
// Dequantization of ggml blocks to fp32, bit-exact against the PyPI `gguf` package (0.19):
// the same fp16 decoding and the same order of fp32 operations per element. Torch-free so that
// kernels and tests can use it anywhere.
#include <cstdint>
#include <span>

#include "slmq/io/ggml_types.h"

namespace slmq::io {

// True for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool can_dequantize(GgmlType type);

// Decodes `dst.size()` elements of `type` from `src` (blocks back to back, as in a GGUF tensor).
// Contract: dst.size() is a multiple of the type's block size and src.size() equals
// dst.size() / block_size * type_size; otherwise throws InternalError (the reader validates
// tensor sizes before calling). Throws UnsupportedError naming the type when !can_dequantize.
void dequantize(GgmlType type, std::span<const std::uint8_t> src, std::span<float> dst);

// IEEE half -> float, exact for every input (subnormals, infinities, NaN payloads), as numpy's
// float16 -> float32 cast.
float fp16_to_fp32(std::uint16_t h);

namespace detail {
// Per-format block decoders; `n_blocks` blocks from `src` into `dst` (n_blocks * block_size).
void dequantize_legacy(GgmlType type, const std::uint8_t* src, std::int64_t n_blocks, float* dst);
void dequantize_k(GgmlType type, const std::uint8_t* src, std::int64_t n_blocks, float* dst);
}  // namespace detail

}  // namespace slmq::io
