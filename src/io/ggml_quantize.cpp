// Block encoders. The reference quantizers follow the gguf package's numpy code operation by
// operation in fp32 (no fused multiply-add), so their bytes equal it.
#include "slmq/io/ggml_quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "slmq/core/error.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace slmq::io {
namespace {

void put_fp16(std::uint8_t* p, float v) {
  const std::uint16_t h = fp32_to_fp16(v);
  std::memcpy(p, &h, 2);
}

void pack_nibbles(const std::uint8_t* u, std::uint8_t* qs) {
  for (int j = 0; j < kLegacyBlock / 2; ++j)
    qs[j] = static_cast<std::uint8_t>((u[j] & 0x0F) | ((u[j + kLegacyBlock / 2] & 0x0F) << 4));
}

// Q4_0: the value of largest magnitude (first one on ties, as argmax) maps to code 0.
void q4_0_ref(const float* x, std::uint8_t* block) {
  float max = 0.0f, amax = 0.0f;
  for (int j = 0; j < kLegacyBlock; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -8.0f;
  const float id = d == 0.0f ? 0.0f : 1.0f / d;
  std::uint8_t u[kLegacyBlock];
  for (int j = 0; j < kLegacyBlock; ++j) {
    const float t = std::trunc(x[j] * id + 8.5f);
    u[j] = static_cast<std::uint8_t>(std::min(std::max(t, 0.0f), 15.0f));
  }
  encode_q4_0_block(u, d, block);
}

void q4_1_ref(const float* x, std::uint8_t* block) {
  const float max = *std::max_element(x, x + kLegacyBlock);
  const float min = *std::min_element(x, x + kLegacyBlock);
  const float d = (max - min) / 15.0f;
  const float id = d == 0.0f ? 0.0f : 1.0f / d;
  std::uint8_t u[kLegacyBlock];
  for (int j = 0; j < kLegacyBlock; ++j) {
    const float t = std::trunc((x[j] - min) * id + 0.5f);
    u[j] = static_cast<std::uint8_t>(std::min(std::max(t, 0.0f), 15.0f));
  }
  encode_q4_1_block(u, d, min, block);
}

void q8_0_ref(const float* x, std::uint8_t* block) {
  float amax = 0.0f;
  for (int j = 0; j < kLegacyBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d == 0.0f ? 0.0f : 1.0f / d;
  std::int8_t q[kLegacyBlock];
  for (int j = 0; j < kLegacyBlock; ++j) q[j] = static_cast<std::int8_t>(std::round(x[j] * id));
  encode_q8_0_block(q, d, block);
}

}  // namespace

std::uint16_t fp32_to_fp16(float f) {
  const _Float16 h = static_cast<_Float16>(f);  // IEEE conversion: round to nearest even
  std::uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

std::uint16_t fp32_to_bf16(float f) {
  std::uint32_t n;
  std::memcpy(&n, &f, 4);
  if ((n & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((n >> 16) | 64u);
  return static_cast<std::uint16_t>((static_cast<std::uint64_t>(n) + 0x7fffu + ((n >> 16) & 1u)) >>
                                    16);
}

void encode_q4_1_block(const std::uint8_t* u, float d, float m, std::uint8_t* block) {
  put_fp16(block, d);
  put_fp16(block + 2, m);
  pack_nibbles(u, block + 4);
}

void encode_q4_0_block(const std::uint8_t* u, float d, std::uint8_t* block) {
  put_fp16(block, d);
  pack_nibbles(u, block + 2);
}

void encode_q8_0_block(const std::int8_t* q, float d, std::uint8_t* block) {
  put_fp16(block, d);
  std::memcpy(block + 2, q, kLegacyBlock);
}

bool can_quantize(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ8_0:
      return true;
    default:
      return false;
  }
}

std::vector<std::uint8_t> ggml_quantize(GgmlType type, std::span<const float> x) {
  const GgmlTypeTraits t = ggml_traits(type);
  if (!can_quantize(type))
    throw UnsupportedError("cannot encode GGUF tensors as " + std::string(t.name));
  if (x.size() % t.block_size != 0)
    throw InternalError("ggml_quantize: " + std::to_string(x.size()) + " values for " +
                        std::string(t.name));
  const std::size_t blocks = x.size() / t.block_size;
  std::vector<std::uint8_t> out(blocks * t.type_size);
  if (type == GgmlType::kF32) {
    std::memcpy(out.data(), x.data(), out.size());
    return out;
  }
  if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::uint16_t h = type == GgmlType::kF16 ? fp32_to_fp16(x[i]) : fp32_to_bf16(x[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
    return out;
  }
  void (*block_fn)(const float*, std::uint8_t*) =
      type == GgmlType::kQ4_0 ? q4_0_ref : (type == GgmlType::kQ4_1 ? q4_1_ref : q8_0_ref);
  for (std::size_t b = 0; b < blocks; ++b)
    block_fn(x.data() + b * t.block_size, out.data() + b * t.type_size);
  return out;
}

}  // namespace slmq::io
