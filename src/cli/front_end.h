#pragma once
// What `slmquant quantize`, `eval` and `ppl` share: their flags become a run config, validated as
// `slmquant run` validates one, and drive the same pipeline blocks (pipeline/run_*.h), so that
// there is one way to do each step and one result layout (DIR/result.json with --out).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "model_options.h"
#include "slmq/config/run_config.h"
#include "slmq/core/error.h"

namespace slmq::cli {

// A run config of `model` plus the blocks in `blocks` (a YAML mapping such as {quant: {...}}),
// named after the model path's stem ("model" when it has none). ConfigErrors name the config keys
// (quant.weight.bits).
inline RunConfig front_end_config(const ModelOptions& model, YAML::Node blocks) {
  std::filesystem::path path = std::filesystem::path(model.path).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "dir/" names dir
  std::string name = path.filename().stem().string();
  if (name.empty() || name == "." || name == "..") name = "model";
  YAML::Node root = blocks;
  root["model"]["path"] = model.path;
  root["model"]["name"] = name;
  root["model"]["dtype"] = model.dtype;
  root["model"]["device"] = model.device;
  root["model"]["backend"] = model.backend;
  return parse_run_config(root, name);
}

// `--group-size` and `--granularity` as the weight keys of a `quant:` block, in the one encoding
// of "no group": a group size is positive (ConfigError naming --group-size otherwise); one scale
// per output channel is `--granularity per_channel`.
inline void set_weight_grouping(YAML::Node& quant, std::optional<int64_t> group_size,
                                const std::string& granularity) {
  if (group_size) {
    if (*group_size < 1)
      throw ConfigError(
          "--group-size: must be at least 1; for one scale per output channel use "
          "--granularity per_channel");
    quant["weight"]["group_size"] = *group_size;
  }
  if (!granularity.empty()) quant["weight"]["granularity"] = granularity;
}

// DIR/result.json, or empty (no file) without --out.
inline std::filesystem::path front_end_result_path(const std::string& out_dir) {
  return out_dir.empty() ? std::filesystem::path() : std::filesystem::path(out_dir) / "result.json";
}

}  // namespace slmq::cli
