// 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). Layouts as ggml's block_q* structs:
// an fp16 scale (and minimum), then packed quants where byte j holds element j in its low
// nibble and element j + 16 in its high nibble.
#include <string>

#include "gguf_dequant_fp.h"
#include "slmq/core/error.h"

namespace slmq::io::detail {
namespace {

constexpr int kBlock = 32;

// Low 4 bits of element j (0..31) from the 16 packed bytes.
inline std::uint8_t nibble(const std::uint8_t* qs, int j) {
  return j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
}

void q4_0(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  for (int j = 0; j < kBlock; ++j) y[j] = d * static_cast<float>(nibble(b + 2, j) - 8);
}

void q4_1(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const float m = read_fp16(b + 2);
  for (int j = 0; j < kBlock; ++j) y[j] = d * static_cast<float>(nibble(b + 4, j)) + m;
}

void q5_0(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const std::uint32_t qh = read_u32(b + 2);
  for (int j = 0; j < kBlock; ++j) {
    const int q = nibble(b + 6, j) | (((qh >> j) & 1u) << 4);
    y[j] = d * static_cast<float>(q - 16);
  }
}

void q5_1(const std::uint8_t* b, float* y) {
  const float d = read_fp16(b);
  const float m = read_fp16(b + 2);
  const std::uint32_t qh = read_u32(b + 4);
  for (int j = 0; j < kBlock; ++j) {
    const int q = nibble(b + 8, j) | (((qh >> j) & 1u) << 4);
    y[j] = d * static_cast<float>(q) + m;
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
