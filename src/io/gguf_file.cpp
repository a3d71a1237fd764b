// GgufFile accessors; parsing is in gguf_reader.cpp.
#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_file.h"

namespace slmq::io {

void GgufFile::fail_key(const std::string& key, const std::string& what) const {
  throw DataError(fmt::format("GGUF '{}': metadata key '{}': {}", path().string(), key, what));
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufValue& GgufFile::require(const std::string& key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) fail_key(key, "missing");
  return *v;
}

namespace {

// Runs a typed GgufValue accessor, re-throwing its DataError with the file and key named.
template <typename Fn>
decltype(auto) typed(const GgufFile& file, const std::string& key, const GgufValue& v, Fn fn) {
  try {
    return fn(v);
  } catch (const DataError& e) {
    throw DataError(
        fmt::format("GGUF '{}': metadata key '{}': {}", file.path().string(), key, e.what()));
  }
}

}  // namespace

std::uint64_t GgufFile::get_uint(const std::string& key) const {
  return typed(*this, key, require(key), [](const GgufValue& v) { return v.as_uint(); });
}

double GgufFile::get_double(const std::string& key) const {
  return typed(*this, key, require(key), [](const GgufValue& v) { return v.as_double(); });
}

bool GgufFile::get_bool(const std::string& key) const {
  return typed(*this, key, require(key), [](const GgufValue& v) { return v.as_bool(); });
}

const std::string& GgufFile::get_string(const std::string& key) const {
  return typed(*this, key, require(key),
               [](const GgufValue& v) -> const std::string& { return v.as_string(); });
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  return typed(*this, key, require(key), [](const GgufValue& v) {
    std::vector<std::string> out;
    out.reserve(v.as_array().size());
    for (const auto& item : v.as_array()) out.push_back(item.as_string());
    return out;
  });
}

std::vector<std::int64_t> GgufFile::get_int_array(const std::string& key) const {
  return typed(*this, key, require(key), [](const GgufValue& v) {
    std::vector<std::int64_t> out;
    out.reserve(v.as_array().size());
    for (const auto& item : v.as_array()) out.push_back(item.as_int());
    return out;
  });
}

std::optional<std::uint64_t> GgufFile::find_uint(const std::string& key) const {
  if (find(key) == nullptr) return std::nullopt;
  return get_uint(key);
}

std::optional<double> GgufFile::find_double(const std::string& key) const {
  if (find(key) == nullptr) return std::nullopt;
  return get_double(key);
}

std::optional<bool> GgufFile::find_bool(const std::string& key) const {
  if (find(key) == nullptr) return std::nullopt;
  return get_bool(key);
}

std::optional<std::string> GgufFile::find_string(const std::string& key) const {
  if (find(key) == nullptr) return std::nullopt;
  return get_string(key);
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufTensorInfo& GgufFile::require_tensor(const std::string& name) const {
  const GgufTensorInfo* t = find_tensor(name);
  if (t == nullptr) {
    throw DataError(fmt::format("GGUF '{}': tensor '{}' is missing", path().string(), name));
  }
  return *t;
}

std::span<const std::uint8_t> GgufFile::tensor_bytes(const GgufTensorInfo& info) const {
  return {file_.data() + info.offset, info.n_bytes};
}

std::vector<float> GgufFile::dequantize(const GgufTensorInfo& info) const {
  std::vector<float> out(static_cast<std::size_t>(info.n_elements));
  dequantize_into(info, out);
  return out;
}

void GgufFile::dequantize_into(const GgufTensorInfo& info, std::span<float> out) const {
  if (!can_dequantize(info.type)) {
    throw UnsupportedError(fmt::format("GGUF '{}': tensor '{}': dequantizing {} is not supported",
                                       path().string(), info.name, ggml_traits(info.type).name));
  }
  if (out.size() != static_cast<std::size_t>(info.n_elements)) {
    throw InternalError(fmt::format("tensor '{}': output holds {} elements, tensor has {}",
                                    info.name, out.size(), info.n_elements));
  }
  io::dequantize(info.type, tensor_bytes(info), out);
}

}  // namespace slmq::io
