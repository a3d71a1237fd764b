#include "slmq/io/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "slmq/core/error.h"
#include "slmq/core/escape.h"

namespace slmq {
namespace {

// The reference implementation refuses headers over 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeBits {
  const char* name;
  int bits;
};

constexpr DtypeBits kDtypes[] = {
    {"BOOL", 8},    {"U8", 8},   {"I8", 8},      {"F8_E5M2", 8}, {"F8_E4M3", 8},
    {"F8_E8M0", 8}, {"I16", 16}, {"U16", 16},    {"F16", 16},    {"BF16", 16},
    {"I32", 32},    {"U32", 32}, {"F32", 32},    {"I64", 64},    {"U64", 64},
    {"F64", 64},    {"F4", 4},   {"F6_E2M3", 6}, {"F6_E3M2", 6},
};

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

[[noreturn]] void bad(const std::filesystem::path& path, const std::string& what) {
  throw DataError("safetensors file '" + path.string() + "': " + what);
}

[[noreturn]] void bad_tensor(const std::filesystem::path& path, const std::string& tensor,
                             const std::string& what) {
  bad(path, "tensor '" + escape_message(tensor) + "': " + what);
}

SafetensorsTensorInfo parse_entry(const std::filesystem::path& path, const std::string& name,
                                  const nlohmann::json& entry, size_t data_start,
                                  size_t data_size) {
  if (!entry.is_object()) bad_tensor(path, name, "entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) bad_tensor(path, name, std::string("missing '") + key + "'");
  }
  SafetensorsTensorInfo info;
  info.name = name;
  if (!entry["dtype"].is_string()) bad_tensor(path, name, "'dtype' is not a string");
  info.dtype = entry["dtype"].get<std::string>();
  const int dtype_bits = safetensors_dtype_bits(info.dtype);
  if (dtype_bits == 0) bad_tensor(path, name, "unknown dtype '" + info.dtype + "'");
  const auto& shape = entry["shape"];
  if (!shape.is_array()) bad_tensor(path, name, "'shape' is not an array");
  uint64_t numel = 1;
  for (const auto& dim : shape) {
    if (!dim.is_number_unsigned())
      bad_tensor(path, name, "shape entries must be non-negative integers");
    uint64_t d = dim.get<uint64_t>();
    // Torch sizes are int64; a zero elsewhere in the shape would let any larger size through
    // the byte-size check below.
    if (d > static_cast<uint64_t>(INT64_MAX))
      bad_tensor(path, name, "shape entry " + std::to_string(d) + " exceeds 2^63 - 1");
    if (d != 0 && numel > UINT64_MAX / 8 / d) bad_tensor(path, name, "shape overflows");
    numel *= d;
    info.shape.push_back(static_cast<int64_t>(d));
  }
  const auto& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    bad_tensor(path, name, "'data_offsets' must be two non-negative integers");
  }
  uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end || end > data_size) {
    bad_tensor(path, name,
               "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                   ") lie outside the data section of " + std::to_string(data_size) + " bytes");
  }
  uint64_t bits = numel * static_cast<uint64_t>(dtype_bits);
  if (bits % 8 != 0 || end - begin != bits / 8) {
    bad_tensor(path, name,
               "byte range of " + std::to_string(end - begin) + " bytes does not match " +
                   info.dtype + " × " + nlohmann::json(info.shape).dump() + " (" +
                   std::to_string(bits / 8) + " bytes)");
  }
  info.begin = data_start + begin;
  info.end = data_start + end;
  return info;
}

// The byte buffer must be covered exactly: sorted by offset, each tensor starts where the
// previous ended, the last ends at the end of the file.
void check_coverage(const std::filesystem::path& path, std::vector<SafetensorsTensorInfo> sorted,
                    size_t data_start, size_t file_size) {
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  size_t expected = data_start;
  for (const auto& t : sorted) {
    if (t.begin < expected) bad_tensor(path, t.name, "data overlaps the previous tensor");
    if (t.begin > expected) bad_tensor(path, t.name, "hole in the data section before this tensor");
    expected = t.end;
  }
  if (expected != file_size) {
    bad(path, "data section has " + std::to_string(file_size - expected) +
                  " bytes not covered by any tensor");
  }
}

}  // namespace

int safetensors_dtype_bits(const std::string& dtype) {
  for (const auto& d : kDtypes) {
    if (dtype == d.name) return d.bits;
  }
  return 0;
}

SafetensorsHeader parse_safetensors_header(std::span<const std::uint8_t> bytes,
                                           const std::filesystem::path& path) {
  const size_t size = bytes.size();
  if (size < 8)
    bad(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len = read_u64_le(bytes.data());
  if (header_len > kMaxHeaderBytes)
    bad(path, "header length " + std::to_string(header_len) + " exceeds 100 MB");
  if (header_len > size - 8) {
    bad(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                  std::to_string(size) + " bytes)");
  }
  const char* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_begin, header_begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    bad(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad(path, "header is not a JSON object");
  const size_t data_start = 8 + header_len;
  SafetensorsHeader out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad(path, "__metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          bad(path, "__metadata__ value '" + escape_message(k) + "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(parse_entry(path, name, entry, data_start, size - data_start));
  }
  check_coverage(path, out.tensors, data_start, size);
  return out;
}

}  // namespace slmq
