// Dispatch and the plain (non-block) formats. The block formats live in gguf_dequant_legacy.cpp
// (32-element blocks) and gguf_dequant_k.cpp (256-element K-quant super-blocks).
#include "slmq/io/gguf_dequant.h"

#include <cstring>
#include <string>

#include "slmq/core/error.h"

namespace slmq::io {

float fp16_to_fp32(std::uint16_t h) {
  std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0x1F) {
    // Inf or NaN; the payload moves to the top of the fp32 mantissa like numpy does.
    bits = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise the mantissa; every half subnormal is a normal float.
    int shift = 0;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<std::uint32_t>(113 - shift) << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

bool can_dequantize(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

namespace {

void dequantize_plain(GgmlType type, const std::uint8_t* src, std::size_t n, float* dst) {
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case GgmlType::kF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
      }
      return;
    case GgmlType::kBF16:
      // bf16 is the top half of an fp32: exact, NaN payloads included.
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    default:
      throw InternalError("dequantize_plain: not a plain type");
  }
}

}  // namespace

void dequantize(GgmlType type, std::span<const std::uint8_t> src, std::span<float> dst) {
  const GgmlTypeTraits traits = ggml_traits(type);
  if (!can_dequantize(type)) {
    throw UnsupportedError("dequantizing ggml type " + std::string(traits.name) +
                           " is not supported");
  }
  if (dst.size() % traits.block_size != 0 ||
      src.size() != dst.size() / traits.block_size * traits.type_size) {
    throw InternalError("dequantize " + std::string(traits.name) + ": " +
                        std::to_string(src.size()) + " bytes do not hold " +
                        std::to_string(dst.size()) + " elements");
  }
  // Nothing to do, and empty spans may hold null pointers, which memcpy must not be given.
  if (dst.empty()) return;
  const auto n_blocks = static_cast<std::int64_t>(dst.size() / traits.block_size);
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      dequantize_plain(type, src.data(), dst.size(), dst.data());
      return;
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      detail::dequantize_k(type, src.data(), n_blocks, dst.data());
      return;
    default:
      detail::dequantize_legacy(type, src.data(), n_blocks, dst.data());
  }
}

}  // namespace slmq::io
