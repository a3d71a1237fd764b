#pragma once
// Typed, validated access to one mapping of a YAML config. Every error is a ConfigError naming
// the full key path ("model.dtype"), the offending value and, for unknown keys, the nearest
// valid key.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace slmq {

class ConfigNode {
 public:
  // `path` is the key path of this node ("" for the root).
  ConfigNode(YAML::Node node, std::string path);

  const std::string& path() const { return path_; }
  bool has(const std::string& key) const;
  // Throws ConfigError when the node is not a mapping or holds a key outside `allowed`.
  void allow_only(std::initializer_list<std::string_view> allowed) const;
  void allow_only(const std::vector<std::string>& allowed) const;
  // The mapping at `key` (an empty mapping when absent). Throws when it is not a mapping.
  ConfigNode section(const std::string& key) const;

  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::string require_string(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_double(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::vector<int64_t> get_int_list(const std::string& key) const;  // empty when absent
  // A list of strings, or one string of comma-separated entries; empty when absent.
  std::vector<std::string> get_string_list(const std::string& key) const;
  // A string that must be one of `choices`.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         std::initializer_list<std::string_view> choices) const;
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices) const;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  std::string key_path(const std::string& key) const;
  YAML::Node scalar(const std::string& key, const char* expected) const;
  // `value` read at `key`, checked to be UTF-8.
  std::string text(const std::string& key, const std::string& value) const;

  YAML::Node node_;
  std::string path_;
};

// The valid key closest to `key` by edit distance, or "" when none is reasonably close.
std::string nearest_key(std::string_view key, std::initializer_list<std::string_view> candidates);
std::string nearest_key(std::string_view key, const std::vector<std::string>& candidates);

}  // namespace slmq
