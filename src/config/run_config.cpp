#include "slmq/config/run_config.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

#include "slmq/config/config_node.h"
#include "slmq/core/dtype_names.h"
#include "slmq/core/error.h"
#include "slmq/core/hash.h"

namespace slmq {
namespace {

// yaml-cpp keeps every pair of a mapping and lookups find one of them: a repeated key would
// silently override (or be overridden by) the other. Refused, naming the key path and both lines.
void reject_duplicate_keys(const YAML::Node& node, const std::string& prefix) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i)
      reject_duplicate_keys(node[i], prefix + "[" + std::to_string(i) + "]");
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> first_line;  // key -> 1-based line
  for (const auto& pair : node) {
    const std::string key = pair.first.IsScalar() ? pair.first.Scalar() : pair.first.Tag();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    const int line = pair.first.Mark().line + 1;
    if (auto [it, inserted] = first_line.emplace(key, line); !inserted)
      throw ConfigError("key '" + path + "' appears twice (lines " + std::to_string(it->second) +
                        " and " + std::to_string(line) + ")");
    reject_duplicate_keys(pair.second, path);
  }
}

ModelSection parse_model(const ConfigNode& node) {
  node.allow_only({"path", "name", "dtype", "device", "backend", "kv_cache"});
  ModelSection m;
  m.path = node.require_string("path");
  m.name = node.get_string(
      "name", std::filesystem::path(m.path).lexically_normal().filename().stem().string());
  m.dtype = canonical_compute_dtype(node.get_string("dtype", m.dtype), node.path() + ".dtype");
  m.device = node.get_string("device", m.device);
  const bool cuda_index = m.device.rfind("cuda:", 0) == 0 && m.device.size() > 5 &&
                          m.device.find_first_not_of("0123456789", 5) == std::string::npos;
  if (m.device != "cpu" && m.device != "cuda" && m.device != "auto" && !cuda_index) {
    node.fail("device", "'" + m.device + "' is not one of cpu, cuda, cuda:N, auto");
  }
  m.backend = node.get_choice("backend", m.backend, {"fake", "real", "auto"});
  m.kv_cache = node.get_choice("kv_cache", m.kv_cache, {"float", "int8"});
  return m;
}

GenerateSection parse_generate(const ConfigNode& node) {
  node.allow_only({"prompt", "prompt_ids", "max_new_tokens", "stop_at_eos"});
  GenerateSection g;
  g.prompt = node.get_string("prompt", "");
  g.prompt_ids = node.get_int_list("prompt_ids");
  if (!g.prompt.empty() && !g.prompt_ids.empty())
    node.fail("prompt", "give either prompt or prompt_ids, not both");
  g.enabled = !g.prompt.empty() || !g.prompt_ids.empty();
  g.max_new_tokens = node.get_int("max_new_tokens", g.max_new_tokens);
  if (g.max_new_tokens < 1) node.fail("max_new_tokens", "must be at least 1");
  g.stop_at_eos = node.get_bool("stop_at_eos", g.stop_at_eos);
  if (node.has("max_new_tokens") && !g.enabled)
    node.fail("prompt", "(or prompt_ids) is required when generate is configured");
  return g;
}

EvalSection parse_eval(const ConfigNode& node) {
  node.allow_only({"tasks", "num_fewshot", "limit", "data_dir", "bos", "batch_tokens",
                   "log_samples", "max_length", "stem_merge_width"});
  EvalSection e;
  // The names are checked where tasks are made (pipeline/run_job.h: check_run_config).
  e.tasks = node.get_string_list("tasks");
  e.enabled = !e.tasks.empty();
  e.num_fewshot = node.get_int("num_fewshot", e.num_fewshot);
  if (node.has("num_fewshot") && e.num_fewshot < 0) node.fail("num_fewshot", "must be >= 0");
  e.limit = node.get_int("limit", e.limit);
  if (node.has("limit") && e.limit < 1) node.fail("limit", "must be at least 1");
  e.data_dir = node.get_string("data_dir", e.data_dir);
  e.bos = node.get_choice("bos", e.bos, {"default", "always", "never"});
  e.batch_tokens = node.get_int("batch_tokens", e.batch_tokens);
  if (e.batch_tokens < 0) node.fail("batch_tokens", "must be >= 0 (0: from free memory)");
  e.log_samples = node.get_bool("log_samples", e.log_samples);
  e.max_length = node.get_int("max_length", e.max_length);
  if (node.has("max_length") && e.max_length < 2) node.fail("max_length", "must be at least 2");
  e.stem_merge_width = node.get_int("stem_merge_width", e.stem_merge_width);
  if (node.has("stem_merge_width") && e.stem_merge_width < 0)
    node.fail("stem_merge_width", "must be >= 0 (0: no merging)");
  return e;
}

PplSection parse_ppl(const ConfigNode& node) {
  node.allow_only({"seqlen", "limit_windows", "batch_windows", "bos", "data_dir", "kl",
                   "kl_positions", "baseline", "baseline_dtype"});
  PplSection p;
  p.enabled = true;
  p.seqlen = node.get_int("seqlen", p.seqlen);
  if (p.seqlen < 2) node.fail("seqlen", "must be at least 2");
  p.limit_windows = node.get_int("limit_windows", p.limit_windows);
  if (p.limit_windows < 0) node.fail("limit_windows", "must be >= 0 (0: every window)");
  p.batch_windows = node.get_int("batch_windows", p.batch_windows);
  if (p.batch_windows < 1) node.fail("batch_windows", "must be at least 1");
  p.bos = node.get_choice("bos", p.bos, {"default", "always", "never"});
  p.data_dir = node.get_string("data_dir", p.data_dir);
  p.kl = node.get_bool("kl", p.kl);
  p.kl_positions = node.get_choice("kl_positions", p.kl_positions, {"second-half", "all"});
  p.baseline = node.get_string("baseline", p.baseline);
  p.baseline_dtype = node.get_string("baseline_dtype", p.baseline_dtype);
  if (!p.baseline_dtype.empty()) {
    if (p.baseline.empty()) node.fail("baseline_dtype", "needs baseline (a model path)");
    p.baseline_dtype = canonical_compute_dtype(p.baseline_dtype, node.path() + ".baseline_dtype");
  }
  if (!p.baseline.empty()) {
    if (node.has("kl") && !p.kl)
      node.fail("kl", "cannot be false with a baseline (KL against it is what it is for)");
    p.kl = true;
  }
  return p;
}

ProfileSection parse_profile(const ConfigNode& node) {
  node.allow_only(
      {"prompt_tokens", "output_tokens", "batch_size", "iterations", "warmup", "threads", "seed"});
  ProfileSection p;
  p.enabled = true;
  auto at_least = [&](const char* key, int64_t& value, int64_t min) {
    value = node.get_int(key, value);
    if (value < min) node.fail(key, "must be at least " + std::to_string(min));
  };
  at_least("prompt_tokens", p.prompt_tokens, 1);
  at_least("output_tokens", p.output_tokens, 2);
  at_least("batch_size", p.batch_size, 1);
  at_least("iterations", p.iterations, 1);
  at_least("warmup", p.warmup, 0);
  at_least("threads", p.threads, 0);
  p.seed = node.get_int("seed", p.seed);
  return p;
}

OutputSection parse_output(const ConfigNode& node) {
  node.allow_only({"dir"});
  OutputSection o;
  o.dir = node.get_string("dir", o.dir);
  return o;
}

}  // namespace

RunConfig parse_run_config(const YAML::Node& root, const std::string& default_name) {
  ConfigNode node(root, "");
  node.allow_only(
      {"name", "seed", "model", "generate", "eval", "ppl", "profile", "output", "quant"});
  RunConfig c;
  c.name = node.get_string("name", default_name);
  if (c.name.empty() || c.name.find('/') != std::string::npos)
    node.fail("name", "must be a non-empty file stem without '/'");
  c.seed = node.get_int("seed", c.seed);
  if (!node.has("model")) node.fail("model", "is required");
  c.model = parse_model(node.section("model"));
  c.generate = parse_generate(node.section("generate"));
  if (node.has("eval")) {
    c.eval = parse_eval(node.section("eval"));
    if (!c.eval.enabled) node.fail("eval", "needs 'tasks' (a list of task names)");
  }
  c.output = parse_output(node.section("output"));
  if (node.has("profile")) c.profile = parse_profile(node.section("profile"));
  if (node.has("quant")) c.quant = parse_quant_section(node.section("quant"));
  if (node.has("ppl")) {
    c.ppl = parse_ppl(node.section("ppl"));
    if (c.ppl.kl && c.ppl.baseline.empty() && !c.quant)
      node.fail("ppl.kl",
                "needs a quant: block (the baseline is the model before quantization) or "
                "ppl.baseline");
  }
  return c;
}

void apply_override(YAML::Node& root, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set '" + assignment + "': expected key.path=value");
  }
  std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + path + ": value is not valid YAML: " + e.msg);
  }
  // yaml-cpp nodes are handles: walk with copies, then assign through the last one.
  std::vector<std::string> keys;
  for (size_t start = 0;;) {
    size_t dot = path.find('.', start);
    keys.push_back(path.substr(start, dot - start));
    if (keys.back().empty()) throw ConfigError("--set '" + assignment + "': empty key in path");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  YAML::Node node = root;
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    if (!node[keys[i]] || node[keys[i]].IsNull()) node[keys[i]] = YAML::Node(YAML::NodeType::Map);
    if (!node[keys[i]].IsMap()) {
      throw ConfigError("--set " + path + ": '" + keys[i] + "' is not a mapping");
    }
    node.reset(node[keys[i]]);
  }
  node[keys.back()] = value;
}

RunConfig load_run_config(const std::filesystem::path& path,
                          const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read config '" + path.string() + "'");
  } catch (const YAML::Exception& e) {
    throw ConfigError("config '" + path.string() + "' is not valid YAML: " + e.what());
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  // Checked before the overrides, which index the root as a mapping.
  if (!root.IsMap())
    throw ConfigError("'" + path.string() + "': expected a mapping of keys at the top level");
  try {
    reject_duplicate_keys(root, "");
  } catch (const ConfigError& e) {
    throw ConfigError("'" + path.string() + "': " + e.what());
  }
  for (const auto& o : overrides) apply_override(root, o);
  try {
    return parse_run_config(root, path.stem().string());
  } catch (const ConfigError& e) {
    throw ConfigError("'" + path.string() + "': " + e.what());
  }
}

nlohmann::json RunConfig::to_json() const {
  nlohmann::json j = {{"name", name},
                      {"seed", seed},
                      {"model",
                       {{"path", model.path},
                        {"name", model.name},
                        {"dtype", model.dtype},
                        {"device", model.device}}},
                      {"output", {{"dir", output.dir}}}};
  // Only a non-default backend enters the hash, so results written before the key existed stay
  // current: auto now runs real kernels where they exist, which agree with the fake-quant path
  // within the parity tolerances (tests/reference/real_backend_parity_test.cpp).
  if (model.backend != "auto") j["model"]["backend"] = model.backend;
  if (model.kv_cache != "float") j["model"]["kv_cache"] = model.kv_cache;  // same reason
  if (quant) j["quant"] = quant->to_json();
  if (profile.enabled) {
    j["profile"] = {{"prompt_tokens", profile.prompt_tokens},
                    {"output_tokens", profile.output_tokens},
                    {"batch_size", profile.batch_size},
                    {"iterations", profile.iterations},
                    {"warmup", profile.warmup},
                    {"threads", profile.threads},
                    {"seed", profile.seed}};
  }
  if (generate.enabled) {
    j["generate"] = {{"prompt", generate.prompt},
                     {"prompt_ids", generate.prompt_ids},
                     {"max_new_tokens", generate.max_new_tokens},
                     {"stop_at_eos", generate.stop_at_eos}};
  }
  if (ppl.enabled) {
    j["ppl"] = {{"seqlen", ppl.seqlen},
                {"limit_windows", ppl.limit_windows},
                {"bos", ppl.bos},
                {"data_dir", ppl.data_dir},
                {"kl", ppl.kl},
                {"kl_positions", ppl.kl_positions},
                {"batch_windows", ppl.batch_windows}};
    // Only when set, so that the hashes of existing configs stay as they were.
    if (!ppl.baseline.empty()) {
      j["ppl"]["baseline"] = ppl.baseline;
      j["ppl"]["baseline_dtype"] = ppl.baseline_dtype;
    }
  }
  if (eval.enabled) {
    j["eval"] = {{"tasks", eval.tasks},
                 {"num_fewshot", eval.num_fewshot},
                 {"limit", eval.limit},
                 {"data_dir", eval.data_dir},
                 {"bos", eval.bos},
                 {"batch_tokens", eval.batch_tokens},
                 {"log_samples", eval.log_samples}};
    // Only when set, so that the hashes of existing configs stay as they were.
    if (eval.max_length > 0) j["eval"]["max_length"] = eval.max_length;
    if (eval.stem_merge_width >= 0) j["eval"]["stem_merge_width"] = eval.stem_merge_width;
  }
  return j;
}

std::string RunConfig::hash() const {
  // The output location does not change what a run computes.
  nlohmann::json j = to_json();
  j.erase("output");
  // Nor do where per-item samples go and how requests are batched.
  if (j.contains("eval")) {
    j["eval"].erase("log_samples");
    j["eval"].erase("batch_tokens");
    j["eval"].erase("stem_merge_width");
  }
  return hex64(fnv1a64(j.dump()));
}

}  // namespace slmq
