#pragma once
// Writer for GGUF v3 files (the layout gguf_file.h reads): metadata key/values in insertion
// order, tensor infos, then the tensor data, each tensor's offset aligned to `general.alignment`
// (32 unless set). Little-endian. The file appears whole or not at all (atomic rename).
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "slmq/io/ggml_types.h"
#include "slmq/io/gguf_value.h"

namespace slmq::io {

class GgufWriter {
 public:
  // Adds or replaces a metadata value (a replaced key keeps its first position).
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v) {
    set(key, GgufValue::string(std::move(v)));
  }
  void set_u32(const std::string& key, std::uint64_t v) {
    set(key, GgufValue::unsigned_int(GgufValueType::kUint32, v));
  }
  void set_i32(const std::string& key, std::int64_t v) {
    set(key, GgufValue::signed_int(GgufValueType::kInt32, v));
  }
  void set_f32(const std::string& key, double v) {
    set(key, GgufValue::floating(GgufValueType::kFloat32, v));
  }
  void set_bool(const std::string& key, bool v) { set(key, GgufValue::boolean(v)); }
  void set_strings(const std::string& key, const std::vector<std::string>& items);
  void set_f32s(const std::string& key, const std::vector<float>& items);
  void set_i32s(const std::string& key, const std::vector<std::int32_t>& items);
  bool has(const std::string& key) const;
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }

  // A tensor of `type` with `shape` in torch order ([rows, cols]; ggml stores it reversed) and its
  // encoded blocks. Throws InternalError when the byte count does not match the shape and type
  // (rows of whole blocks), or the name repeats.
  void add_tensor(const std::string& name, GgmlType type, std::vector<std::int64_t> shape,
                  std::vector<std::uint8_t> bytes);
  std::size_t tensor_count() const { return tensors_.size(); }

  // Writes the file (atomically). DataError naming `path` when it cannot be written.
  void write(const std::filesystem::path& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

}  // namespace slmq::io
