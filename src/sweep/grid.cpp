#include "slmq/sweep/grid.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/core/hash.h"

namespace slmq::sweep {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_keys(const std::string& key_path) {
  std::vector<std::string> keys;
  for (size_t start = 0;;) {
    const size_t dot = key_path.find('.', start);
    keys.push_back(key_path.substr(start, dot - start));
    if (keys.back().empty()) throw ConfigError("grid key path '" + key_path + "' has an empty key");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return keys;
}

YAML::Node load_yaml(const fs::path& path, const std::string& what) {
  try {
    YAML::Node root = YAML::LoadFile(path.string());
    return root.IsNull() ? YAML::Node(YAML::NodeType::Map) : root;
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read " + what + " '" + path.string() + "'");
  } catch (const YAML::Exception& e) {
    throw ConfigError(what + " '" + path.string() + "' is not valid YAML: " + e.what());
  }
}

bool same_value(const YAML::Node& a, const YAML::Node& b) {
  const bool a_null = !a || a.IsNull(), b_null = !b || b.IsNull();
  if (a_null || b_null) return a_null && b_null;
  if (a.IsScalar() && b.IsScalar()) return a.Scalar() == b.Scalar();
  return YAML::Dump(a) == YAML::Dump(b);
}

// A rule's value matches a cell's value; a list in the rule matches any of its entries.
bool rule_matches(const YAML::Node& want, const YAML::Node& got) {
  if (want && want.IsSequence()) {
    for (const auto& w : want)
      if (same_value(w, got)) return true;
    return false;
  }
  return same_value(want, got);
}

GridAxis parse_axis(const std::string& where, const std::vector<std::string>& keys,
                    const YAML::Node& lists) {
  GridAxis axis{keys, {}};
  for (const auto& key : keys) {
    const YAML::Node list = lists[key];
    if (!list.IsSequence() || list.size() == 0)
      throw ConfigError(where + "." + key + ": expected a non-empty list of values");
    axis.values.emplace_back(list.begin(), list.end());
    if (axis.values.back().size() != axis.values.front().size()) {
      throw ConfigError(fmt::format("{}: zip group lists differ in length ({} has {}, {} has {})",
                                    where, keys.front(), axis.values.front().size(), key,
                                    axis.values.back().size()));
    }
  }
  return axis;
}

std::vector<std::string> map_keys(const YAML::Node& map, const std::string& where) {
  if (!map.IsMap()) throw ConfigError(where + ": expected a mapping of key paths");
  std::vector<std::string> keys;
  for (const auto& kv : map) {
    keys.push_back(kv.first.as<std::string>());
    split_keys(keys.back());  // rejects empty components
  }
  return keys;
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                    c == '+' || c == '=' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

std::string scalar_or(const YAML::Node& node, const std::string& fallback) {
  return node && node.IsScalar() ? node.Scalar() : fallback;
}

std::string dtype_label(const std::string& dtype) {
  if (dtype == "bfloat16") return "bf16";
  if (dtype == "float16") return "fp16";
  return "fp32";
}

// Key paths of axes with more than one distinct value: the ones an id must show.
std::vector<std::string> varying_keys(const Grid& grid) {
  std::vector<std::string> out;
  for (const auto& axis : grid.axes) {
    for (size_t k = 0; k < axis.keys.size(); ++k) {
      std::set<std::string> distinct;
      for (const auto& v : axis.values[k]) distinct.insert(YAML::Dump(v));
      if (distinct.size() > 1) out.push_back(axis.keys[k]);
    }
  }
  return out;
}

std::string cell_id(const Grid& grid, const YAML::Node& doc, const std::vector<std::string>& vary) {
  const std::string path = scalar_or(node_at(doc, "model.path"), "model");
  std::string model =
      scalar_or(node_at(doc, "model.name"), fs::path(path).lexically_normal().filename().stem());
  const YAML::Node quant = node_at(doc, "quant");
  const bool fp = !quant || quant.IsNull();
  std::set<std::string> shown = {"name",  "model.path",   "model.name",  "output.dir",
                                 "quant", "quant.method", "quant.scheme"};
  std::string id = sanitize(model) + "/";
  if (fp) {
    id += dtype_label(scalar_or(node_at(doc, "model.dtype"), "float32"));
    shown.insert("model.dtype");
  } else {
    id += sanitize(scalar_or(quant["method"], "none")) + "-" +
          sanitize(scalar_or(quant["scheme"], "none"));
  }
  for (const auto& key : vary) {
    if (shown.count(key)) continue;
    const YAML::Node v = node_at(doc, key);
    if (!v || !v.IsScalar()) continue;  // absent in this cell, or a block: not in the id
    const auto label = grid.labels.find(key);
    if (label != grid.labels.end() && label->second.empty()) continue;  // hidden
    if (key == "model.dtype" && label == grid.labels.end()) {
      id += "-" + dtype_label(v.Scalar());
      continue;
    }
    id += "-" + (label != grid.labels.end() ? label->second : split_keys(key).back()) +
          sanitize(v.Scalar());
  }
  return id;
}

Cell make_cell(const Grid& grid, YAML::Node doc, const std::vector<std::string>& vary,
               const std::string& output_dir) {
  Cell cell;
  cell.id = cell_id(grid, doc, vary);
  // A run name is a file stem: the model part of the id becomes a folder of the output dir.
  const size_t slash = cell.id.find('/');
  doc["name"] = cell.id.substr(slash + 1);
  const YAML::Node dir = node_at(doc, "output.dir");
  const fs::path base_dir = !output_dir.empty()     ? fs::path(output_dir)
                            : dir && dir.IsScalar() ? fs::path(dir.Scalar())
                                                    : fs::path(OutputSection{}.dir);
  set_at(doc, "output.dir", YAML::Node((base_dir / cell.id.substr(0, slash)).string()));
  cell.doc = doc;
  try {
    cell.config = parse_run_config(doc, doc["name"].as<std::string>());
    cell.hash = cell.config->hash();
  } catch (const ConfigError& e) {
    cell.config_error = e.what();
    cell.hash = "invalid-" + hex64(fnv1a64(YAML::Dump(doc)));
  }
  return cell;
}

}  // namespace

YAML::Node node_at(const YAML::Node& root, const std::string& key_path) {
  YAML::Node node = YAML::Clone(root);
  for (const auto& key : split_keys(key_path)) {
    if (!node.IsMap() || !node[key]) return YAML::Node();
    node.reset(node[key]);
  }
  return node;
}

void set_at(YAML::Node& root, const std::string& key_path, const YAML::Node& value) {
  const std::vector<std::string> keys = split_keys(key_path);
  const bool remove = !value || value.IsNull();
  std::vector<YAML::Node> chain = {root};  // chain[i] holds keys[i]
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node node = chain.back();
    if (!node[keys[i]] || node[keys[i]].IsNull()) {
      if (remove) return;  // nothing to remove
      node[keys[i]] = YAML::Node(YAML::NodeType::Map);
    }
    if (!node[keys[i]].IsMap())
      throw ConfigError("grid key path " + key_path + ": '" + keys[i] + "' is not a mapping");
    chain.push_back(node[keys[i]]);
  }
  if (!remove) {
    chain.back()[keys.back()] = YAML::Clone(value);
    return;
  }
  // Removing the last key of a block removes the block: quant.method and quant.scheme set to
  // null leave no empty quant: (which would mean the default method).
  for (size_t i = keys.size(); i-- > 0;) {
    chain[i].remove(keys[i]);
    if (i == 0 || chain[i].size() > 0) break;
  }
}

Grid load_grid(const fs::path& path, const std::vector<std::string>& overrides,
               const std::vector<std::string>& cell_overrides) {
  const YAML::Node root = load_yaml(path, "grid file");
  const std::string where = "grid '" + path.string() + "'";
  try {
    ConfigNode top(root, "");
    top.allow_only({"name", "base", "axes", "zip", "exclude", "labels"});
    Grid grid;
    grid.file = path;
    grid.cell_overrides = cell_overrides;
    grid.name = top.get_string("name", path.stem().string());
    const YAML::Node base = root["base"];
    if (base && base.IsScalar()) {
      grid.base = load_yaml(path.parent_path() / base.Scalar(), "grid base config");
    } else if (base && base.IsMap()) {
      grid.base = YAML::Clone(base);
    } else {
      throw ConfigError("base: expected a run config mapping or the path of a run config file");
    }
    for (const auto& o : overrides) apply_override(grid.base, o);
    if (root["axes"]) {
      for (const auto& key : map_keys(root["axes"], "axes"))
        grid.axes.push_back(parse_axis("axes", {key}, root["axes"]));
    }
    if (root["zip"]) {
      if (!root["zip"].IsSequence()) throw ConfigError("zip: expected a list of groups");
      for (size_t i = 0; i < root["zip"].size(); ++i) {
        const std::string w = fmt::format("zip[{}]", i);
        grid.axes.push_back(parse_axis(w, map_keys(root["zip"][i], w), root["zip"][i]));
      }
    }
    if (root["exclude"]) {
      if (!root["exclude"].IsSequence()) throw ConfigError("exclude: expected a list of rules");
      for (size_t i = 0; i < root["exclude"].size(); ++i) {
        const YAML::Node rule = root["exclude"][i];
        std::map<std::string, YAML::Node> r;
        for (const auto& key : map_keys(rule, fmt::format("exclude[{}]", i))) r[key] = rule[key];
        grid.excludes.push_back(std::move(r));
      }
    }
    if (root["labels"]) {
      for (const auto& key : map_keys(root["labels"], "labels")) {
        const YAML::Node label = root["labels"][key];
        grid.labels[key] = label.IsNull() ? "" : sanitize(label.as<std::string>());
      }
    }
    return grid;
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  } catch (const YAML::Exception& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

std::vector<Cell> expand_grid(const Grid& grid, const std::string& output_dir) {
  const std::vector<std::string> vary = varying_keys(grid);
  std::vector<Cell> cells;
  std::vector<size_t> index(grid.axes.size(), 0);
  for (const auto& axis : grid.axes)
    if (axis.size() == 0) return cells;
  // (key path, value) of each --set-cell, and whether some cell had the key.
  std::vector<std::pair<std::string, YAML::Node>> sets;
  for (const auto& o : grid.cell_overrides) {
    YAML::Node probe(YAML::NodeType::Map);
    apply_override(probe, o);  // parses and checks "key.path=value"
    const std::string key = o.substr(0, o.find('='));
    sets.emplace_back(key, node_at(probe, key));
  }
  std::vector<char> used(sets.size(), 0);
  while (true) {
    YAML::Node doc = YAML::Clone(grid.base);
    for (size_t a = 0; a < grid.axes.size(); ++a) {
      const GridAxis& axis = grid.axes[a];
      for (size_t k = 0; k < axis.keys.size(); ++k)
        set_at(doc, axis.keys[k], axis.values[k][index[a]]);
    }
    for (size_t i = 0; i < sets.size(); ++i) {
      if (node_at(doc, sets[i].first).IsNull()) continue;
      set_at(doc, sets[i].first, sets[i].second);
      used[i] = 1;
    }
    bool excluded = false;
    for (const auto& rule : grid.excludes) {
      bool all = true;
      for (const auto& [key, want] : rule) all = all && rule_matches(want, node_at(doc, key));
      excluded = excluded || all;
    }
    if (!excluded) {
      Cell cell = make_cell(grid, doc, vary, output_dir);
      auto same =
          std::find_if(cells.begin(), cells.end(), [&](const Cell& c) { return c.id == cell.id; });
      if (same == cells.end()) {
        cells.push_back(std::move(cell));
      } else if (same->hash != cell.hash) {
        throw ConfigError(fmt::format(
            "grid '{}': two different cells have the id '{}' (config hashes {} and {}); an axis "
            "that varies a block or a key the id does not show needs a labels: entry or an "
            "exclude: rule",
            grid.file.string(), cell.id, same->hash, cell.hash));
      }
    }
    // Odometer: the last axis varies fastest.
    size_t a = grid.axes.size();
    while (a > 0 && ++index[a - 1] == grid.axes[a - 1].size()) index[--a] = 0;
    if (a == 0) break;
  }
  for (size_t i = 0; i < sets.size(); ++i) {
    if (!used[i])
      throw ConfigError("--set-cell " + grid.cell_overrides[i] + ": no cell of grid '" +
                        grid.file.string() + "' has the key " + sets[i].first);
  }
  return cells;
}

}  // namespace slmq::sweep
