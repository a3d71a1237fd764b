#pragma once
// Reader for GGUF v2/v3 files (llama.cpp's single-file model format), memory-mapped.
//
// open() validates everything before returning: magic, version, every length against the file
// size, value types, nesting depth, `general.alignment` (power of two), tensor infos (known type,
// 1..4 dims, row length a multiple of the block size, offset aligned and inside the file, byte
// size = elements / block size x type size, no two tensors overlapping, unique names). Any
// violation throws DataError naming the file and the key or tensor; a format revision or type we
// do not handle throws UnsupportedError. Little-endian files only.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "slmq/io/ggml_types.h"
#include "slmq/io/gguf_value.h"
#include "slmq/io/mapped_file.h"

namespace slmq::io {

struct GgufTensorInfo {
  std::string name;
  GgmlType type;
  // ggml order: dims[0] is the contiguous (row) dimension. shape() gives numpy / torch order.
  std::vector<std::int64_t> dims;
  std::uint64_t offset = 0;  // from the start of the file (data section start + relative offset)
  std::uint64_t n_bytes = 0;
  std::int64_t n_elements = 0;

  std::vector<std::int64_t> shape() const { return {dims.rbegin(), dims.rend()}; }
};

class GgufFile {
 public:
  static GgufFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }
  std::uint64_t file_size() const { return file_.size(); }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(const std::string& key) const;
  // Typed getters: throw DataError naming the key when it is missing or of another type.
  const GgufValue& require(const std::string& key) const;
  std::uint64_t get_uint(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<std::int64_t> get_int_array(const std::string& key) const;
  // The same, nullopt when the key is absent (still DataError when present with another type).
  std::optional<std::uint64_t> find_uint(const std::string& key) const;
  std::optional<double> find_double(const std::string& key) const;
  std::optional<bool> find_bool(const std::string& key) const;
  std::optional<std::string> find_string(const std::string& key) const;

  // Tensor infos in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  const GgufTensorInfo& require_tensor(const std::string& name) const;  // DataError if absent
  std::span<const std::uint8_t> tensor_bytes(const GgufTensorInfo& info) const;
  // All elements as fp32 in ggml order (row-major over shape()). UnsupportedError for types
  // without a dequantizer, naming the tensor.
  std::vector<float> dequantize(const GgufTensorInfo& info) const;
  void dequantize_into(const GgufTensorInfo& info, std::span<float> out) const;

 private:
  friend class GgufParser;
  GgufFile() = default;
  [[noreturn]] void fail_key(const std::string& key, const std::string& what) const;

  MappedFile file_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, std::size_t, std::less<>> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> tensor_index_;
};

}  // namespace slmq::io
