#include "slmq/config/config_node.h"

#include <algorithm>

#include "slmq/core/error.h"
#include "slmq/core/escape.h"

namespace slmq {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) {
    std::string quoted = "'";  // built step by step: GCC 12 warns about a + chain here
    quoted += escape_message(node.Scalar());
    return quoted += "'";
  }
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

std::vector<std::string> to_strings(std::initializer_list<std::string_view> list) {
  return {list.begin(), list.end()};
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::string nearest_key(std::string_view key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(3, key.size() / 2) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(key, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string nearest_key(std::string_view key, std::initializer_list<std::string_view> candidates) {
  return nearest_key(key, to_strings(candidates));
}

ConfigNode::ConfigNode(YAML::Node node, std::string path)
    : node_(std::move(node)), path_(std::move(path)) {}

std::string ConfigNode::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void ConfigNode::fail(const std::string& key, const std::string& what) const {
  throw ConfigError(
      (key.empty() ? (path_.empty() ? std::string("<root>") : path_) : key_path(key)) + ": " +
      what);
}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && node_[key] && !node_[key].IsNull();
}

void ConfigNode::allow_only(std::initializer_list<std::string_view> allowed) const {
  allow_only(to_strings(allowed));
}

void ConfigNode::allow_only(const std::vector<std::string>& allowed) const {
  if (!node_ || node_.IsNull()) return;
  if (!node_.IsMap()) fail("", "expected a mapping of keys, got " + describe(node_));
  for (const auto& item : node_) {
    // YAML allows lists and mappings as keys ("? [a, b]: 1"); no config has them.
    if (!item.first.IsScalar()) fail("", "has a key that is " + describe(item.first));
    const std::string key = escape_message(item.first.Scalar());
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint = nearest_key(key, allowed);
    fail(key, "unknown key" + (hint.empty() ? "" : " (did you mean '" + key_path(hint) + "'?)") +
                  "; valid keys here: " + joined(allowed));
  }
}

ConfigNode ConfigNode::section(const std::string& key) const {
  if (!has(key)) return ConfigNode(YAML::Node(YAML::NodeType::Map), key_path(key));
  YAML::Node child = node_[key];
  if (!child.IsMap()) fail(key, "expected a mapping, got " + describe(child));
  return ConfigNode(child, key_path(key));
}

YAML::Node ConfigNode::scalar(const std::string& key, const char* expected) const {
  YAML::Node value = node_[key];
  if (!value.IsScalar())
    fail(key, std::string("expected ") + expected + ", got " + describe(value));
  return value;
}

std::string ConfigNode::text(const std::string& key, const std::string& value) const {
  // Config strings end up in the result file's JSON, which holds UTF-8 only.
  if (!is_utf8(value)) fail(key, "'" + escape_message(value) + "' is not valid UTF-8 text");
  return value;
}

std::string ConfigNode::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? text(key, scalar(key, "a string").Scalar()) : fallback;
}

std::string ConfigNode::require_string(const std::string& key) const {
  if (!has(key)) fail(key, "is required");
  return get_string(key, "");
}

int64_t ConfigNode::get_int(const std::string& key, int64_t fallback) const {
  if (!has(key)) return fallback;
  YAML::Node value = scalar(key, "an integer");
  try {
    return value.as<int64_t>();
  } catch (const YAML::Exception&) {
    fail(key, "expected an integer, got " + describe(value));
  }
}

double ConfigNode::get_double(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  YAML::Node value = scalar(key, "a number");
  try {
    return value.as<double>();
  } catch (const YAML::Exception&) {
    fail(key, "expected a number, got " + describe(value));
  }
}

bool ConfigNode::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  YAML::Node value = scalar(key, "true or false");
  try {
    return value.as<bool>();
  } catch (const YAML::Exception&) {
    fail(key, "expected true or false, got " + describe(value));
  }
}

std::vector<int64_t> ConfigNode::get_int_list(const std::string& key) const {
  if (!has(key)) return {};
  YAML::Node value = node_[key];
  if (!value.IsSequence()) fail(key, "expected a list of integers, got " + describe(value));
  std::vector<int64_t> out;
  for (size_t i = 0; i < value.size(); ++i) {
    try {
      out.push_back(value[i].as<int64_t>());
    } catch (const YAML::Exception&) {
      fail(key, "entry " + std::to_string(i) + " is not an integer: " + describe(value[i]));
    }
  }
  return out;
}

std::vector<std::string> ConfigNode::get_string_list(const std::string& key) const {
  if (!has(key)) return {};
  YAML::Node value = node_[key];
  std::vector<std::string> out;
  auto add = [&](const std::string& entry) {
    if (entry.empty()) fail(key, "has an empty entry");
    out.push_back(text(key, entry));
  };
  if (value.IsScalar()) {
    const std::string entries = value.as<std::string>();
    for (size_t start = 0;;) {
      const size_t comma = entries.find(',', start);
      add(entries.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }
  if (!value.IsSequence()) fail(key, "expected a list of strings, got " + describe(value));
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].IsScalar())
      fail(key, "entry " + std::to_string(i) + " is not a string: " + describe(value[i]));
    add(value[i].as<std::string>());
  }
  return out;
}

std::string ConfigNode::get_choice(const std::string& key, const std::string& fallback,
                                   std::initializer_list<std::string_view> choices) const {
  return get_choice(key, fallback, to_strings(choices));
}

std::string ConfigNode::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& choices) const {
  std::string value = get_string(key, fallback);
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return value;
  std::string hint = nearest_key(value, choices);
  fail(key, "'" + escape_message(value) + "' is not one of " + joined(choices) +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

}  // namespace slmq
