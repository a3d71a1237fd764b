#pragma once
// Order- and bit-sensitive checksum of fp32 data, the same as scripts/reference/_gguf_common.py's
// checksum(): sum over i of bits(x_i) * (i % 65521 + 1), modulo 2^64.
#include <cstdint>
#include <cstring>
#include <span>

namespace slmq::test {

inline std::uint64_t fp32_checksum(std::span<const float> values) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &values[i], 4);
    sum += static_cast<std::uint64_t>(bits) * (i % 65521 + 1);
  }
  return sum;
}

}  // namespace slmq::test
