#pragma once
// A `quant:` section parsed from inline YAML (JSON text is YAML too), and the ConfigError message
// a bad one raises, for tests of the config keys.
#include <yaml-cpp/yaml.h>

#include <string>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/quant/quant_spec.h"

namespace slmq::test {

inline QuantConfig parse_quant_yaml(const std::string& yaml) {
  return parse_quant_section(ConfigNode(YAML::Load(yaml), "quant"));
}

// The ConfigError message of parse_quant_yaml(yaml), or "no error" when it parses.
inline std::string quant_yaml_error(const std::string& yaml) {
  try {
    parse_quant_yaml(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace slmq::test
