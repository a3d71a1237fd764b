#pragma once
// Encoding fp32 values and integer codes into ggml blocks — the inverse of gguf_dequant.h. Two
// uses: blocks from codes a quantizer already chose (exact: the block dequantizes to d·u + m with
// the fp16-rounded d and m), and ggml's reference quantizers from fp32 (quantize_row_q4_0_ref,
// ..._q4_1_ref, ..._q8_0_ref), bit-exact against the PyPI `gguf` package's quants.quantize.
// Torch-free.
#include <cstdint>
#include <span>
#include <vector>

#include "slmq/io/ggml_types.h"

namespace slmq::io {

// IEEE half nearest to `f`, ties to even, overflow to infinity (numpy's astype(float16)).
std::uint16_t fp32_to_fp16(float f);
// bfloat16 as ggml_compute_fp32_to_bf16: ties to even, NaN kept quiet.
std::uint16_t fp32_to_bf16(float f);

inline constexpr int kLegacyBlock = 32;  // elements per Q4_0 / Q4_1 / Q8_0 block

// One block from 32 codes. Q4_1: u in [0, 15], x = d·u + m (20 bytes).
void encode_q4_1_block(const std::uint8_t* u, float d, float m, std::uint8_t* block);
// Q4_0: u in [0, 15], x = d·(u − 8) (18 bytes).
void encode_q4_0_block(const std::uint8_t* u, float d, std::uint8_t* block);
// Q8_0: q in [−128, 127], x = d·q (34 bytes).
void encode_q8_0_block(const std::int8_t* q, float d, std::uint8_t* block);

// True for the types ggml_quantize can produce: F32, F16, BF16, Q4_0, Q4_1, Q8_0.
bool can_quantize(GgmlType type);
// `x` (rows of whole blocks, row-major) encoded as `type` with ggml's reference quantizer.
// InternalError when x.size() is not a multiple of the block size; UnsupportedError naming the
// type when !can_quantize(type).
std::vector<std::uint8_t> ggml_quantize(GgmlType type, std::span<const float> x);

}  // namespace slmq::io
