#pragma once
// Shared by the block dequantizers. Bit-exactness against numpy needs every a * b + c to round
// the product before the addition, as numpy does; a fused multiply-add would round once and
// differ in the last bit. Including this header switches contraction off for the file.
#include <cstdint>
#include <cstring>

#include "slmq/io/gguf_dequant.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace slmq::io::detail {

inline float read_fp16(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

inline std::uint32_t read_u32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace slmq::io::detail
