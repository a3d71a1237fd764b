#pragma once
// Hand-assembled GGUF files for reader tests: a valid default that each test corrupts in one
// place, so that every validation rule is exercised on its own.
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace slmq::test {

class GgufBytes {
 public:
  GgufBytes& u32(std::uint32_t v) { return raw(&v, 4); }
  GgufBytes& u64(std::uint64_t v) { return raw(&v, 8); }
  GgufBytes& u8(std::uint8_t v) { return raw(&v, 1); }
  GgufBytes& f32(float v) { return raw(&v, 4); }
  GgufBytes& str(const std::string& s) {
    u64(s.size());
    buf_ += s;
    return *this;
  }
  GgufBytes& raw(const void* p, std::size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    return *this;
  }
  GgufBytes& bytes(const std::string& s) {
    buf_ += s;
    return *this;
  }
  const std::string& data() const { return buf_; }

 private:
  std::string buf_;
};

// Encoded values (type id followed by the payload), for GgufSpec::kvs.
inline std::string gguf_u32(std::uint32_t v) { return GgufBytes().u32(4).u32(v).data(); }
inline std::string gguf_str(const std::string& s) { return GgufBytes().u32(8).str(s).data(); }
inline std::string gguf_f32(float v) { return GgufBytes().u32(6).f32(v).data(); }
inline std::string gguf_bool(bool v) { return GgufBytes().u32(7).u8(v ? 1 : 0).data(); }
inline std::string gguf_str_array(const std::vector<std::string>& items) {
  GgufBytes b;
  b.u32(9).u32(8).u64(items.size());
  for (const auto& s : items) b.str(s);
  return b.data();
}
inline std::string gguf_i32_array(const std::vector<std::int32_t>& items) {
  GgufBytes b;
  b.u32(9).u32(5).u64(items.size());
  for (auto v : items) b.raw(&v, 4);
  return b.data();
}

inline std::string gguf_f32_array(const std::vector<float>& items) {
  GgufBytes b;
  b.u32(9).u32(6).u64(items.size());
  for (auto v : items) b.f32(v);
  return b.data();
}

struct GgufTensorSpec {
  std::string name;
  std::vector<std::uint64_t> dims;
  std::uint32_t type;
  std::uint64_t offset;
};

struct GgufSpec {
  std::uint32_t magic = 0x46554747;
  std::uint32_t version = 3;
  std::vector<std::pair<std::string, std::string>> kvs{{"general.architecture", gguf_str("llama")},
                                                       {"test.str", gguf_str("abc")}};
  // "a": 8 x F32 at 0; "b": 2 rows of one Q8_0 block at 32 (2 x 34 bytes).
  std::vector<GgufTensorSpec> tensors{{"a", {8}, 0, 0}, {"b", {32, 2}, 8, 32}};
  std::uint64_t alignment = 32;
  std::string data = default_data();

  static std::string default_data() {
    GgufBytes d;
    for (int i = 0; i < 8; ++i) d.f32(static_cast<float>(i) - 2.5f);
    for (int row = 0; row < 2; ++row) {
      d.u8(0x00).u8(0x3C);  // fp16 1.0
      for (int j = 0; j < 32; ++j) d.u8(static_cast<std::uint8_t>(j - 16 + row));
    }
    return d.data();
  }

  std::string bytes() const {
    GgufBytes b;
    b.u32(magic).u32(version).u64(tensors.size()).u64(kvs.size());
    for (const auto& [key, value] : kvs) b.str(key).bytes(value);
    for (const auto& t : tensors) {
      b.str(t.name).u32(static_cast<std::uint32_t>(t.dims.size()));
      for (auto d : t.dims) b.u64(d);
      b.u32(t.type).u64(t.offset);
    }
    std::string out = b.data();
    out.resize((out.size() + alignment - 1) / alignment * alignment, '\0');
    return out + data;
  }
};

}  // namespace slmq::test
