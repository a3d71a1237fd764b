#pragma once
// One GGUF metadata value: a scalar, a string or an (arbitrarily nested) array.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace slmq::io {

enum class GgufValueType : std::uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view gguf_value_type_name(GgufValueType type);

class GgufValue {
 public:
  using Array = std::vector<GgufValue>;

  static GgufValue unsigned_int(GgufValueType type, std::uint64_t v) { return {type, v}; }
  static GgufValue signed_int(GgufValueType type, std::int64_t v) { return {type, v}; }
  static GgufValue floating(GgufValueType type, double v) { return {type, v}; }
  static GgufValue boolean(bool v) { return {GgufValueType::kBool, v}; }
  static GgufValue string(std::string v) { return {GgufValueType::kString, std::move(v)}; }
  // `element_type` is the declared element type (kept even for empty arrays).
  static GgufValue array(GgufValueType element_type, Array items);

  GgufValueType type() const { return type_; }
  GgufValueType element_type() const { return element_type_; }  // arrays only
  bool is_integer() const;
  bool is_float() const {
    return type_ == GgufValueType::kFloat32 || type_ == GgufValueType::kFloat64;
  }

  // Typed access; each throws DataError (message: expected vs. actual type, or out of range)
  // when the value is not of that kind. Callers that know the key add it (GgufFile does).
  std::int64_t as_int() const;    // any integer type that fits int64
  std::uint64_t as_uint() const;  // any non-negative integer
  double as_double() const;       // float32/float64 (exactly) or any integer
  bool as_bool() const;
  const std::string& as_string() const;
  const Array& as_array() const;

  // Short human-readable rendering (arrays abbreviated after `max_items`).
  std::string to_display_string(std::size_t max_items = 8) const;

 private:
  using Storage = std::variant<std::uint64_t, std::int64_t, double, bool, std::string, Array>;
  GgufValue(GgufValueType type, Storage v) : type_(type), value_(std::move(v)) {}

  GgufValueType type_;
  GgufValueType element_type_ = GgufValueType::kUint8;
  Storage value_;
};

}  // namespace slmq::io
