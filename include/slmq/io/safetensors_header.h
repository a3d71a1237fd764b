#pragma once
// The safetensors header and tensor table, parsed and validated without torch (so that the fuzz
// build, which has no libtorch, runs exactly the checks SafetensorsFile::open runs): header
// length inside the file and at most 100 MB, a JSON object header, string __metadata__ values,
// known dtypes, shape entries in 0..2^63-1 (torch sizes) whose byte size does not overflow, data
// offsets inside the data section matching dtype × shape, and the data section covered exactly
// (in order, no holes, no overlaps). Nothing is allocated from a size before it is checked against
// the file. Every failure is a DataError naming the file and, where there is one, the tensor.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace slmq {

struct SafetensorsTensorInfo {
  std::string name;
  std::string dtype;  // as in the file: "F32", "BF16", "F8_E4M3", ...
  std::vector<int64_t> shape;
  size_t begin = 0;  // absolute byte offsets in the file
  size_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsTensorInfo> tensors;  // file (header) order
  std::map<std::string, std::string> metadata;
};

// `bytes` is the whole file; `path` only names it in errors.
SafetensorsHeader parse_safetensors_header(std::span<const std::uint8_t> bytes,
                                           const std::filesystem::path& path);

// Bits per element of a safetensors dtype name ("F32" -> 32, "F4" -> 4), 0 when unknown.
int safetensors_dtype_bits(const std::string& dtype);

}  // namespace slmq
