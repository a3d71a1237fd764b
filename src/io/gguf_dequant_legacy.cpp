// 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). Layouts as ggml's block_q* structs:
// an fp16 scale (and minimum), then packed quants where byte j holds element j in its low
// nibble and element j + 16 in its high nibble.
#include <string>

#include "gguf_dequant_fp.h"
#include "slmq/core/error.h"

namespace slmq::io::detail {
namespace {

constexpr int kBlock = 32;

// Each loop handles element j (low nibble of byte j) and j + 16 (high nibble) together, which
// keeps the loops branch-free so that they vectorize.
void q4_0(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const std::uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>((qs[j] & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
  }
}

void q4_1(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const float m = read_fp16(b + 2);
  const std::uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(qs[j] & 0x0F) + m;
    y[j + 16] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

void q5_0(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const std::uint32_t qh = read_u32(b + 2);
  const std::uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0F) | (((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
    y[j] = d * static_cast<float>(lo - 16);
    y[j + 16] = d * static_cast<float>(hi - 16);
  }
}

void q5_1(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const float m = read_fp16(b + 2);
  const std::uint32_t qh = read_u32(b + 4);
  const std::uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0F) | (((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
    y[j] = d * static_cast<float>(lo) + m;
    y[j + 16] = d * static_cast<float>(hi) + m;
  }
}

void q8_0(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  for (int j = 0; j < kBlock; ++j)
    y[j] = static_cast<float>(static_cast<std::int8_t>(b[2 + j])) * d;
}

}  // namespace

void dequantize_legacy(GgmlType type, const std::uint8_t* src, std::int64_t n_blocks, float* dst) {
  void (*block_fn)(const std::uint8_t*, float*) = nullptr;
  switch (type) {
    case GgmlType::kQ4_0:
      block_fn = q4_0;
      break;
    case GgmlType::kQ4_1:
      block_fn = q4_1;
      break;
    case GgmlType::kQ5_0:
      block_fn = q5_0;
      break;
    case GgmlType::kQ5_1:
      block_fn = q5_1;
      break;
    case GgmlType::kQ8_0:
      block_fn = q8_0;
      break;
    default:
      throw InternalError("dequantize_legacy: unexpected type " +
                          std::string(ggml_traits(type).name));
  }
  const std::size_t type_size = ggml_traits(type).type_size;
  for (std::int64_t i = 0; i < n_blocks; ++i) block_fn(src + i * type_size, dst + i * kBlock);
}

}  // namespace slmq::io::detail
