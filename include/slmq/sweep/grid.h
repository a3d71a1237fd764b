#pragma once
// A grid file (docs/sweeps.md): a base run config plus axes, expanded into named cells, each one
// run of the pipeline. The file:
//
//   name: smollm2_grid                # optional; default: the file's stem
//   base: {model: ..., ppl: ...}      # a run config (a mapping, or a path to a run config YAML
//                                     # relative to the grid file)
//   axes:                             # key path -> list of values; their cartesian product
//     model.path: [a.gguf, b.gguf]    # (the first axis varies slowest). A null value removes
//     quant.smoothquant.alpha: [0.5]  # the key and a block it leaves empty (quant: [null, ...]
//                                     # gives an FP cell); a mapping value sets a whole block
//   zip:                              # groups of key paths whose lists advance together; each
//     - {quant.method: [rtn, gptq], quant.scheme: [w8a8, w4a16]}   # group is one product axis
//   exclude:                          # a cell matching every key of a rule is dropped; a list
//     - {quant.method: awq, quant.scheme: [w4a8, w8a8]}            # value matches any of it
//   labels: {quant.smoothquant.alpha: a, ppl.kl: null}             # id suffix names; null
//                                                                  # or "": not in the id
//
// A cell's id is "<model name>/<method>-<scheme>" ("<model name>/fp32" without quant:), then
// "-<label><value>" for every other axis that varies across the grid (label: labels[key], or
// the key's last component; model.dtype shows as fp32/bf16/fp16). The part after the '/' is the
// cell's run name and output.dir gets the model name as a subfolder, so the result file is
// <output.dir>/<id>.json; name and model name are in the config hash.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slmq/config/run_config.h"

namespace slmq::sweep {

// One axis of the product: one key, or a zip group of keys whose value lists have one length.
struct GridAxis {
  std::vector<std::string> keys;
  std::vector<std::vector<YAML::Node>> values;  // values[k][i]: keys[k]'s i-th value
  size_t size() const { return values.empty() ? 0 : values[0].size(); }
};

struct Grid {
  std::string name;
  std::filesystem::path file;
  YAML::Node base;  // the base run config, `--set` overrides applied
  std::vector<GridAxis> axes;
  std::vector<std::map<std::string, YAML::Node>> excludes;
  std::map<std::string, std::string> labels;  // "": the key is not shown in ids
  // `--set-cell key.path=value`: applied to every expanded cell that has the key (after the axes).
  std::vector<std::string> cell_overrides;
};

// One cell. A cell whose expanded config does not validate is still a cell: it carries the
// error and runs as a failed row, so one bad setting does not stop the grid.
struct Cell {
  std::string id;
  std::string hash;  // config.hash(), or "invalid-" + a hash of the expanded YAML
  YAML::Node doc;    // the expanded run config
  std::optional<RunConfig> config;
  std::string config_error;  // why `config` is empty
};

// Reads and checks a grid file, applying `overrides` ("key.path=value") to its base and keeping
// `cell_overrides` for expand_grid. ConfigError naming the file and key for unknown keys, axes
// without a list, zip groups of unequal lengths.
Grid load_grid(const std::filesystem::path& path, const std::vector<std::string>& overrides,
               const std::vector<std::string>& cell_overrides = {});

// Every cell of the grid, in product order, cell overrides applied where the key exists (a
// ConfigError when no cell has it), excluded cells dropped. `output_dir`, when not empty,
// replaces the base's output.dir (default "results"). Cells that expand to the same id and config
// are one cell; the same id with different configs is a ConfigError naming both settings (add a
// labels: entry).
std::vector<Cell> expand_grid(const Grid& grid, const std::string& output_dir = "");

// A copy of the YAML node at a dotted key path of `root`; a null node when a key on the way is
// absent.
YAML::Node node_at(const YAML::Node& root, const std::string& key_path);

// Sets the dotted key path in `root` to a copy of `value`, creating mappings on the way; a null
// value removes the key, and each mapping on the path that this leaves empty.
void set_at(YAML::Node& root, const std::string& key_path, const YAML::Node& value);

}  // namespace slmq::sweep
