#pragma once
// Readers for the raw files reference generators write.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace slmq::test {

// A little-endian float32 dump (numpy's tobytes()).
inline std::vector<float> read_f32(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

}  // namespace slmq::test
