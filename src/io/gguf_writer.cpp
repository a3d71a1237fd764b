#include "slmq/io/gguf_writer.h"

#include <fmt/format.h>

#include <cstring>

#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"

namespace slmq::io {
namespace {

constexpr std::uint32_t kVersion = 3;
constexpr std::uint64_t kDefaultAlignment = 32;

class Bytes {
 public:
  template <typename T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // little-endian hosts only, as the reader
    out_.append(b, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_.append(s);
  }
  void pad_to(std::uint64_t alignment) {
    while (out_.size() % alignment != 0) out_.push_back('\0');
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

void put_value(Bytes& b, const GgufValue& v);

void put_scalar(Bytes& b, GgufValueType type, const GgufValue& v) {
  switch (type) {
    case GgufValueType::kUint8:
      return b.put<std::uint8_t>(static_cast<std::uint8_t>(v.as_uint()));
    case GgufValueType::kInt8:
      return b.put<std::int8_t>(static_cast<std::int8_t>(v.as_int()));
    case GgufValueType::kUint16:
      return b.put<std::uint16_t>(static_cast<std::uint16_t>(v.as_uint()));
    case GgufValueType::kInt16:
      return b.put<std::int16_t>(static_cast<std::int16_t>(v.as_int()));
    case GgufValueType::kUint32:
      return b.put<std::uint32_t>(static_cast<std::uint32_t>(v.as_uint()));
    case GgufValueType::kInt32:
      return b.put<std::int32_t>(static_cast<std::int32_t>(v.as_int()));
    case GgufValueType::kFloat32:
      return b.put<float>(static_cast<float>(v.as_double()));
    case GgufValueType::kBool:
      return b.put<std::uint8_t>(v.as_bool() ? 1 : 0);
    case GgufValueType::kString:
      return b.put_string(v.as_string());
    case GgufValueType::kArray:
      return put_value(b, v);
    case GgufValueType::kUint64:
      return b.put<std::uint64_t>(v.as_uint());
    case GgufValueType::kInt64:
      return b.put<std::int64_t>(v.as_int());
    case GgufValueType::kFloat64:
      return b.put<double>(v.as_double());
  }
  throw InternalError("GGUF writer: unknown value type");
}

// The value after its type tag: arrays as element type, count, elements.
void put_value(Bytes& b, const GgufValue& v) {
  if (v.type() != GgufValueType::kArray) return put_scalar(b, v.type(), v);
  b.put<std::uint32_t>(static_cast<std::uint32_t>(v.element_type()));
  const auto& items = v.as_array();
  b.put<std::uint64_t>(items.size());
  for (const auto& item : items) {
    if (item.type() != v.element_type())
      throw InternalError("GGUF writer: array element of another type than declared");
    if (item.type() == GgufValueType::kArray) {
      put_value(b, item);
    } else {
      put_scalar(b, item.type(), item);
    }
  }
}

std::uint64_t align_up(std::uint64_t n, std::uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::set_strings(const std::string& key, const std::vector<std::string>& items) {
  GgufValue::Array a;
  a.reserve(items.size());
  for (const auto& s : items) a.push_back(GgufValue::string(s));
  set(key, GgufValue::array(GgufValueType::kString, std::move(a)));
}

void GgufWriter::set_f32s(const std::string& key, const std::vector<float>& items) {
  GgufValue::Array a;
  a.reserve(items.size());
  for (float f : items) a.push_back(GgufValue::floating(GgufValueType::kFloat32, f));
  set(key, GgufValue::array(GgufValueType::kFloat32, std::move(a)));
}

void GgufWriter::set_i32s(const std::string& key, const std::vector<std::int32_t>& items) {
  GgufValue::Array a;
  a.reserve(items.size());
  for (auto i : items) a.push_back(GgufValue::signed_int(GgufValueType::kInt32, i));
  set(key, GgufValue::array(GgufValueType::kInt32, std::move(a)));
}

bool GgufWriter::has(const std::string& key) const {
  for (const auto& kv : metadata_)
    if (kv.first == key) return true;
  return false;
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<std::int64_t> shape,
                            std::vector<std::uint8_t> bytes) {
  const GgmlTypeTraits t = ggml_traits(type);
  std::int64_t elements = 1;
  for (auto d : shape) elements *= d;
  if (shape.empty() || shape.size() > 4 || shape.back() % t.block_size != 0 ||
      static_cast<std::uint64_t>(elements) / t.block_size * t.type_size != bytes.size()) {
    throw InternalError(fmt::format("GGUF writer: tensor '{}' has {} bytes for shape [{}] of {}",
                                    name, bytes.size(), fmt::join(shape, ", "), t.name));
  }
  for (const auto& existing : tensors_)
    if (existing.name == name)
      throw InternalError(fmt::format("GGUF writer: tensor '{}' added twice", name));
  tensors_.push_back({name, type, std::move(shape), std::move(bytes)});
}

void GgufWriter::write(const std::filesystem::path& path) const {
  std::uint64_t alignment = kDefaultAlignment;
  for (const auto& [k, v] : metadata_)
    if (k == "general.alignment") alignment = v.as_uint();
  Bytes h;
  h.str().append("GGUF");
  h.put<std::uint32_t>(kVersion);
  h.put<std::uint64_t>(tensors_.size());
  h.put<std::uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    h.put_string(key);
    h.put<std::uint32_t>(static_cast<std::uint32_t>(value.type()));
    put_value(h, value);
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors_) {
    h.put_string(t.name);
    h.put<std::uint32_t>(static_cast<std::uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
      h.put<std::uint64_t>(static_cast<std::uint64_t>(*it));
    h.put<std::uint32_t>(static_cast<std::uint32_t>(t.type));
    h.put<std::uint64_t>(offset);
    offset = align_up(offset + t.bytes.size(), alignment);
  }
  h.pad_to(alignment);
  AtomicFileWriter out(path);
  out.write(h.str());
  static const std::string kZeros(4096, '\0');
  for (const auto& t : tensors_) {
    out.write(std::string_view(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size()));
    const std::uint64_t pad = align_up(t.bytes.size(), alignment) - t.bytes.size();
    out.write(std::string_view(kZeros.data(), pad));
  }
  out.commit();
}

}  // namespace slmq::io
