#pragma once
// A config.json "quantization_config" of a compressed-tensors checkpoint, parsed into what the
// loader needs, without torch (the fuzz build reads it too): QuantSpecs (compressed_tensors
// flavour) per config group, the groups' targets and storage format, and the ignore list.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "slmq/quant/quant_spec.h"

namespace slmq::ct {

constexpr const char* kPackQuantized = "pack-quantized";
constexpr const char* kIntQuantized = "int-quantized";
constexpr size_t kMaxPatternChars = 4096;

// One config_groups entry.
struct CtGroup {
  std::string name;
  nlohmann::json targets;  // as in the file (matched by the loader); its re: patterns compile
  QuantSpec weight;
  std::optional<QuantSpec> activation;
  bool packed = true;  // pack-quantized, else int-quantized / naive-quantized
};

struct CtQuantizationConfig {
  nlohmann::json ignore;  // as in the file, like targets
  std::vector<CtGroup> groups;
};

// `where` names the file for errors. Throws UnsupportedError for other quant_methods, statuses
// other than "compressed", formats other than pack-quantized / int-quantized / naive-quantized,
// and args slmquant cannot run; DataError naming the key for malformed entries (wrong JSON
// types included) and for "re:" targets std::regex cannot compile or longer than
// kMaxPatternChars (std::regex compiles and matches recursively: deeply nested groups would
// overflow the stack; real patterns are under 100 characters).
CtQuantizationConfig parse_quantization_config(const nlohmann::json& quantization_config,
                                               const std::string& where);

// QuantSpecs (compressed_tensors flavour) from QuantizationArgs. Throws DataError /
// UnsupportedError naming `where` for args slmquant cannot run (float types, block strategy,
// static activations, ...).
QuantSpec weight_spec_from_args(const nlohmann::json& args, const std::string& where);
QuantSpec activation_spec_from_args(const nlohmann::json& args, const std::string& where);

}  // namespace slmq::ct
