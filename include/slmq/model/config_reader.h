#pragma once
// Typed access to one JSON object of a config.json, with errors that name the file and the key
// path ("'config.json': key 'rope_parameters.factor' is missing"). Shared by the common config
// parsing and each architecture's own keys.
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "slmq/core/error.h"

namespace slmq {

class ConfigReader {
 public:
  // `j` must outlive the reader. `prefix` is prepended to key names in errors ("rope_parameters.").
  ConfigReader(const nlohmann::json& j, std::string source, std::string prefix = "")
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}

  // Throws DataError naming the key when it is missing, null or of another type.
  template <typename T>
  T require(const char* key) const {
    if (!has(key)) fail(key, "is missing");
    return get<T>(key);
  }

  // `fallback` when the key is missing or null; DataError when present with another type.
  template <typename T>
  T get_or(const char* key, T fallback) const {
    if (!has(key)) return fallback;
    return get<T>(key);
  }

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& raw(const char* key) const { return j_[key]; }
  // A reader of the object under `key` (DataError when it is not an object).
  ConfigReader child(const char* key) const {
    if (!raw(key).is_object()) fail(key, "is not an object");
    return ConfigReader(raw(key), source_, prefix_ + key + ".");
  }
  const std::string& source() const { return source_; }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw DataError("'" + source_ + "': key '" + prefix_ + key + "' " + what);
  }

 private:
  template <typename T>
  T get(const char* key) const {
    // nlohmann converts 64.5 to 64 without a word; a fractional size is a corrupt file.
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      const nlohmann::json& v = j_[key];
      if (v.is_number_float() && v.get<double>() != std::floor(v.get<double>()))
        fail(key, "must be an integer (" + v.dump() + ")");
    }
    try {
      return j_[key].get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(key, "has the wrong type (" + j_[key].dump() + ")");
    }
  }

  const nlohmann::json& j_;
  std::string source_;
  std::string prefix_;
};

}  // namespace slmq
