#include "slmq/io/gguf_value.h"

#include <fmt/format.h>

#include <limits>

#include "slmq/core/error.h"

namespace slmq::io {

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

GgufValue GgufValue::array(GgufValueType element_type, Array items) {
  GgufValue v{GgufValueType::kArray, std::move(items)};
  v.element_type_ = element_type;
  return v;
}

bool GgufValue::is_integer() const {
  return std::holds_alternative<std::uint64_t>(value_) ||
         std::holds_alternative<std::int64_t>(value_);
}

namespace {

[[noreturn]] void wrong_type(GgufValueType actual, std::string_view expected) {
  throw DataError(fmt::format("expected {}, found {}", expected, gguf_value_type_name(actual)));
}

}  // namespace

std::int64_t GgufValue::as_int() const {
  if (const auto* s = std::get_if<std::int64_t>(&value_)) return *s;
  if (const auto* u = std::get_if<std::uint64_t>(&value_)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw DataError(fmt::format("value {} does not fit int64", *u));
    }
    return static_cast<std::int64_t>(*u);
  }
  wrong_type(type_, "an integer");
}

std::uint64_t GgufValue::as_uint() const {
  if (const auto* u = std::get_if<std::uint64_t>(&value_)) return *u;
  if (const auto* s = std::get_if<std::int64_t>(&value_)) {
    if (*s < 0) throw DataError(fmt::format("value {} is negative", *s));
    return static_cast<std::uint64_t>(*s);
  }
  wrong_type(type_, "an unsigned integer");
}

double GgufValue::as_double() const {
  if (const auto* d = std::get_if<double>(&value_)) return *d;
  if (const auto* u = std::get_if<std::uint64_t>(&value_)) return static_cast<double>(*u);
  if (const auto* s = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*s);
  wrong_type(type_, "a number");
}

bool GgufValue::as_bool() const {
  if (const auto* b = std::get_if<bool>(&value_)) return *b;
  wrong_type(type_, "bool");
}

const std::string& GgufValue::as_string() const {
  if (const auto* s = std::get_if<std::string>(&value_)) return *s;
  wrong_type(type_, "string");
}

const GgufValue::Array& GgufValue::as_array() const {
  if (const auto* a = std::get_if<Array>(&value_)) return *a;
  wrong_type(type_, "array");
}

std::string GgufValue::to_display_string(std::size_t max_items) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          std::string shown = v.size() > 60 ? v.substr(0, 57) + "..." : v;
          for (char& c : shown) {
            if (c == '\n' || c == '\r' || c == '\t') c = ' ';
          }
          return fmt::format("\"{}\"", shown);
        } else if constexpr (std::is_same_v<T, Array>) {
          std::string out = fmt::format("[{} x {}]", v.size(), gguf_value_type_name(element_type_));
          std::string sep = " ";
          for (std::size_t i = 0; i < v.size() && i < max_items; ++i, sep = ", ") {
            out += sep + v[i].to_display_string(max_items);
          }
          if (v.size() > max_items) out += ", ...";
          return out;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          if (type_ == GgufValueType::kFloat32) return fmt::format("{}", static_cast<float>(v));
          return fmt::format("{}", v);
        } else {
          return fmt::format("{}", v);
        }
      },
      value_);
}

}  // namespace slmq::io
