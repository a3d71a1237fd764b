#pragma once
// Read-only access to a tokenizer.json document that names the file and the JSON path in every
// error, e.g. "tokenizer.json: pre_tokenizer.pretokenizers[1].behavior: expected a string".
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slmq::tokenizer {

class JsonView {
 public:
  JsonView(const nlohmann::json& value, std::string source, std::string path = "")
      : value_(&value), source_(std::move(source)), path_(std::move(path)) {}

  // A required member; throws DataError when absent.
  JsonView operator[](std::string_view key) const;
  // An optional member; nullopt when absent or null.
  std::optional<JsonView> find(std::string_view key) const;
  JsonView at(std::size_t index) const;
  std::size_t size() const;

  bool is_null() const { return value_->is_null(); }
  bool is_string() const { return value_->is_string(); }
  bool is_array() const { return value_->is_array(); }
  bool is_object() const { return value_->is_object(); }

  std::string as_string() const;
  bool as_bool() const;
  std::int64_t as_int() const;
  // The single Unicode character a string holds (Metaspace replacement, Strip content).
  char32_t as_char() const;

  // Optional members with a default.
  std::string string_or(std::string_view key, std::string fallback) const;
  bool bool_or(std::string_view key, bool fallback) const;

  const nlohmann::json& raw() const { return *value_; }
  const std::string& source() const { return source_; }
  const std::string& path() const { return path_; }

  // DataError naming the file and this node's path.
  [[noreturn]] void fail(std::string_view what) const;
  // UnsupportedError naming the file, this node's path and the component.
  [[noreturn]] void unsupported(std::string_view what) const;

 private:
  std::string child_path(std::string_view key) const;
  const nlohmann::json* value_;
  std::string source_;
  std::string path_;
};

}  // namespace slmq::tokenizer
