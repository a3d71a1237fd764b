#include "task_file_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>

#include "slmq/config/config_node.h"
#include "slmq/core/error.h"
#include "slmq/data/data_files.h"

namespace slmq::eval::detail {
namespace {

const std::vector<std::string> kKeys = {"task",
                                        "task_alias",
                                        "tag",
                                        "dataset_path",
                                        "dataset_name",
                                        "dataset_kwargs",
                                        "training_split",
                                        "validation_split",
                                        "test_split",
                                        "fewshot_split",
                                        "fewshot_config",
                                        "doc_to_text",
                                        "doc_to_target",
                                        "doc_to_choice",
                                        "description",
                                        "target_delimiter",
                                        "fewshot_delimiter",
                                        "num_fewshot",
                                        "output_type",
                                        "metric_list",
                                        "generation_kwargs",
                                        "filter_list",
                                        "repeats",
                                        "should_decontaminate",
                                        "doc_to_decontamination_query",
                                        "metadata"};
// lm-eval keys whose feature slmquant does not run (Python hooks, prompts, multimodal input).
const std::set<std::string> kUnsupportedKeys = {
    "process_docs",   "process_results", "use_prompt", "doc_to_image", "doc_to_audio", "gen_prefix",
    "custom_dataset", "include",         "group",      "unsafe_code",  "class"};

const std::map<std::string, std::vector<std::string>> kMetrics = {
    {"multiple_choice", {"acc", "acc_norm"}},
    {"loglikelihood", {"perplexity", "acc"}},
    {"loglikelihood_rolling", {"word_perplexity", "byte_perplexity", "bits_per_byte"}},
    {"generate_until", {"exact_match"}}};

class Reader {
 public:
  explicit Reader(TaskFileConfig& cfg) : cfg_(cfg) {}

  // "file:line: key"; a missing node (a key looked up and absent) has no line.
  std::string at(const YAML::Node& node, const std::string& key) const {
    if (!node.IsDefined()) return cfg_.file.string() + ": " + key + " (missing)";
    return cfg_.file.string() + ":" + std::to_string(node.Mark().line + 1) + ": " + key;
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& what) const {
    throw ConfigError(at(node, key) + ": " + what);
  }

  std::string string(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a string");
    if (node.Tag() == "!function")
      throw UnsupportedError(at(node, key) + ": !function (Python code) is not supported");
    return node.as<std::string>();
  }
  bool plain_int(const YAML::Node& node) const {
    static const std::regex kInt("-?[0-9]+");
    return node.IsScalar() && node.Tag() == "?" && std::regex_match(node.Scalar(), kInt);
  }
  int64_t integer(const YAML::Node& node, const std::string& key) const {
    if (!plain_int(node)) fail(node, key, "expected an integer");
    return std::stoll(node.Scalar());
  }
  bool boolean(const YAML::Node& node, const std::string& key) const {
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      fail(node, key, "expected true or false");
    }
  }
  std::optional<std::string> optional_string(const YAML::Node& node, const std::string& key) const {
    if (!node || node.IsNull()) return std::nullopt;
    return string(node, key);
  }
  std::vector<std::string> string_list(const YAML::Node& node, const std::string& key) const {
    std::vector<std::string> out;
    if (node.IsScalar()) return {string(node, key)};
    if (!node.IsSequence()) fail(node, key, "expected a string or a list of strings");
    for (const auto& item : node) out.push_back(string(item, key));
    return out;
  }
  void only(const YAML::Node& map, const std::string& key,
            const std::vector<std::string>& allowed) {
    if (!map.IsMap()) fail(map, key, "expected a mapping");
    for (const auto& kv : map) {
      const std::string k = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        const std::string near = nearest_key(k, allowed);
        fail(kv.first, key.empty() ? k : key + "." + k,
             "unknown key" + (near.empty() ? std::string() : " (did you mean '" + near + "'?)"));
      }
    }
  }

  DocField doc_field(const YAML::Node& node, const std::string& key) const {
    DocField f;
    f.where = at(node, key);
    if (!node || node.IsNull()) return f;
    f.present = true;
    if (plain_int(node)) {
      f.value = std::stoll(node.Scalar());
    } else if (node.IsSequence() && key == "doc_to_choice") {
      f.value = string_list(node, key);
    } else {
      f.value = string(node, key);
    }
    return f;
  }

  void dataset(const YAML::Node& root) {
    const std::string path = string(root["dataset_path"], "dataset_path");
    if (path != "json" && path != "csv")
      throw UnsupportedError(at(root["dataset_path"], "dataset_path") + ": '" + path +
                             "': task files read local data: dataset_path json (JSONL) or csv, "
                             "with dataset_kwargs.data_files");
    cfg_.dataset_format = path;
    if (root["dataset_name"] && !root["dataset_name"].IsNull())
      fail(root["dataset_name"], "dataset_name", "not used with local data files; remove it");
    const YAML::Node kwargs = root["dataset_kwargs"];
    if (!kwargs) fail(root["dataset_path"], "dataset_kwargs", "data_files are required");
    only(kwargs, "dataset_kwargs", {"data_files"});
    const YAML::Node files = kwargs["data_files"];
    if (!files) fail(kwargs, "dataset_kwargs.data_files", "missing");
    if (files.IsMap()) {
      for (const auto& kv : files)
        cfg_.data_files[kv.first.as<std::string>()] =
            string_list(kv.second, "dataset_kwargs.data_files");
    } else {
      // A bare file or list is the "train" split, as `datasets` names it.
      cfg_.data_files["train"] = string_list(files, "dataset_kwargs.data_files");
    }
  }

  void metrics(const YAML::Node& root) {
    const YAML::Node list = root["metric_list"];
    const auto& allowed = kMetrics.at(cfg_.output_type);
    if (!list) {
      for (const auto& m : allowed) cfg_.metrics.push_back({m});
      return;
    }
    if (!list.IsSequence()) fail(list, "metric_list", "expected a list");
    for (const auto& item : list) {
      only(item, "metric_list",
           {"metric", "aggregation", "higher_is_better", "ignore_case", "ignore_punctuation",
            "ignore_numbers", "regexes_to_ignore"});
      MetricSpec m;
      m.metric = string(item["metric"], "metric_list.metric");
      if (std::find(allowed.begin(), allowed.end(), m.metric) == allowed.end()) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        throw UnsupportedError(at(item["metric"], "metric_list.metric") + ": '" + m.metric +
                               "' is not supported for " + cfg_.output_type +
                               " (supported: " + names + ")");
      }
      if (item["aggregation"]) check_aggregation(item["aggregation"], m.metric);
      if (item["ignore_case"]) m.ignore_case = boolean(item["ignore_case"], "ignore_case");
      if (item["ignore_punctuation"])
        m.ignore_punctuation = boolean(item["ignore_punctuation"], "ignore_punctuation");
      if (item["ignore_numbers"])
        m.ignore_numbers = boolean(item["ignore_numbers"], "ignore_numbers");
      if (item["regexes_to_ignore"])
        m.regexes_to_ignore = string_list(item["regexes_to_ignore"], "regexes_to_ignore");
      cfg_.metrics.push_back(std::move(m));
    }
  }

  // Each metric has the one aggregation lm-eval gives it by default; another one would change
  // what the number means.
  void check_aggregation(const YAML::Node& node, const std::string& metric) const {
    static const std::map<std::string, std::string> kAggregation = {
        {"perplexity", "perplexity"},
        {"word_perplexity", "weighted_perplexity"},
        {"byte_perplexity", "weighted_perplexity"},
        {"bits_per_byte", "bits_per_byte"}};
    const auto it = kAggregation.find(metric);
    const std::string want = it == kAggregation.end() ? "mean" : it->second;
    const std::string got = string(node, "metric_list.aggregation");
    if (got != want)
      throw UnsupportedError(at(node, "metric_list.aggregation") + ": " + metric +
                             " is aggregated with '" + want + "' only");
  }

  void generation(const YAML::Node& root) {
    cfg_.until = {cfg_.fewshot_delimiter};
    const YAML::Node g = root["generation_kwargs"];
    if (!g) return;
    if (cfg_.output_type != "generate_until")
      fail(g, "generation_kwargs", "only for output_type generate_until");
    only(g, "generation_kwargs", {"until", "max_gen_toks", "do_sample", "temperature"});
    if (g["until"]) cfg_.until = string_list(g["until"], "generation_kwargs.until");
    if (g["max_gen_toks"])
      cfg_.max_gen_toks = static_cast<int>(integer(g["max_gen_toks"], "max_gen_toks"));
    if (g["do_sample"] && boolean(g["do_sample"], "do_sample"))
      throw UnsupportedError(at(g["do_sample"], "generation_kwargs.do_sample") +
                             ": sampling is not supported (greedy decoding only)");
    if (g["temperature"] && g["temperature"].as<double>() != 0.0)
      throw UnsupportedError(at(g["temperature"], "generation_kwargs.temperature") +
                             ": only temperature 0 (greedy) is supported");
  }

  void filters(const YAML::Node& root) {
    const YAML::Node list = root["filter_list"];
    if (!list) {
      cfg_.filters.push_back({"none", {FilterStep{"take_first"}}});
      return;
    }
    if (cfg_.output_type != "generate_until")
      fail(list, "filter_list", "only for output_type generate_until");
    if (!list.IsSequence()) fail(list, "filter_list", "expected a list");
    for (const auto& item : list) {
      only(item, "filter_list", {"name", "filter"});
      FilterSpec spec{string(item["name"], "filter_list.name"), {}};
      if (!item["filter"] || !item["filter"].IsSequence())
        fail(item, "filter_list.filter", "expected a list of filter steps");
      for (const auto& step : item["filter"]) {
        only(step, "filter_list.filter", {"function", "regex_pattern", "group_select", "fallback"});
        FilterStep s;
        s.function = string(step["function"], "filter_list.filter.function");
        static const std::set<std::string> kFunctions = {"regex", "take_first", "lowercase",
                                                         "uppercase", "remove_whitespace"};
        if (!kFunctions.count(s.function))
          throw UnsupportedError(at(step["function"], "filter_list.filter.function") + ": '" +
                                 s.function +
                                 "' (supported: regex, take_first, lowercase, uppercase, "
                                 "remove_whitespace)");
        if (step["regex_pattern"]) s.regex_pattern = string(step["regex_pattern"], "regex_pattern");
        if (step["group_select"]) s.group_select = integer(step["group_select"], "group_select");
        if (step["fallback"]) s.fallback = string(step["fallback"], "fallback");
        spec.steps.push_back(std::move(s));
      }
      cfg_.filters.push_back(std::move(spec));
    }
  }

  void read(const YAML::Node& root) {
    if (!root.IsMap()) throw ConfigError(cfg_.file.string() + ": a task file is a YAML mapping");
    for (const auto& kv : root) {
      const std::string k = kv.first.as<std::string>();
      cfg_.lines[k] = kv.first.Mark().line + 1;
      if (kUnsupportedKeys.count(k))
        throw UnsupportedError(at(kv.first, k) + ": lm-eval's '" + k +
                               "' is not supported in slmquant task files");
    }
    only(root, "", kKeys);
    cfg_.task = root["task"] ? string(root["task"], "task") : cfg_.file.stem().string();
    if (!root["output_type"]) throw ConfigError(cfg_.file.string() + ": output_type is required");
    cfg_.output_type = string(root["output_type"], "output_type");
    if (!kMetrics.count(cfg_.output_type))
      fail(root["output_type"], "output_type",
           "'" + cfg_.output_type +
               "' (expected multiple_choice, loglikelihood, loglikelihood_rolling or "
               "generate_until)");
    if (!root["dataset_path"]) throw ConfigError(cfg_.file.string() + ": dataset_path is required");
    dataset(root);
    cfg_.training_split = optional_string(root["training_split"], "training_split");
    cfg_.validation_split = optional_string(root["validation_split"], "validation_split");
    cfg_.test_split = optional_string(root["test_split"], "test_split");
    cfg_.fewshot_split = optional_string(root["fewshot_split"], "fewshot_split");
    for (const auto* split :
         {&cfg_.training_split, &cfg_.validation_split, &cfg_.test_split, &cfg_.fewshot_split}) {
      if (*split && !cfg_.data_files.count(**split))
        throw ConfigError(cfg_.file.string() + ": split '" + **split +
                          "' has no entry in dataset_kwargs.data_files");
    }
    if (!cfg_.test_split && !cfg_.validation_split)
      throw ConfigError(cfg_.file.string() + ": set test_split or validation_split");
    if (const YAML::Node fc = root["fewshot_config"]) {
      only(fc, "fewshot_config", {"sampler"});
      cfg_.sampler = string(fc["sampler"], "fewshot_config.sampler");
      if (cfg_.sampler != "default" && cfg_.sampler != "first_n")
        fail(fc["sampler"], "fewshot_config.sampler", "expected default or first_n");
    }
    cfg_.doc_to_text = doc_field(root["doc_to_text"], "doc_to_text");
    cfg_.doc_to_target = doc_field(root["doc_to_target"], "doc_to_target");
    cfg_.doc_to_choice = doc_field(root["doc_to_choice"], "doc_to_choice");
    if (!cfg_.doc_to_target.present)
      throw ConfigError(cfg_.file.string() + ": doc_to_target is required");
    if (cfg_.output_type != "loglikelihood_rolling" && !cfg_.doc_to_text.present)
      throw ConfigError(cfg_.file.string() + ": doc_to_text is required");
    if (cfg_.output_type == "multiple_choice" && !cfg_.doc_to_choice.present)
      throw ConfigError(cfg_.file.string() + ": multiple_choice needs doc_to_choice");
    if (root["description"]) cfg_.description = string(root["description"], "description");
    if (root["target_delimiter"])
      cfg_.target_delimiter = string(root["target_delimiter"], "target_delimiter");
    if (root["fewshot_delimiter"])
      cfg_.fewshot_delimiter = string(root["fewshot_delimiter"], "fewshot_delimiter");
    if (root["num_fewshot"]) {
      cfg_.num_fewshot = static_cast<int>(integer(root["num_fewshot"], "num_fewshot"));
      if (*cfg_.num_fewshot < 0) fail(root["num_fewshot"], "num_fewshot", "must be >= 0");
    }
    if (root["repeats"] && integer(root["repeats"], "repeats") != 1)
      throw UnsupportedError(at(root["repeats"], "repeats") + ": only repeats: 1 is supported");
    metrics(root);
    generation(root);
    filters(root);
    if (const YAML::Node md = root["metadata"]) {
      if (!md.IsMap()) fail(md, "metadata", "expected a mapping");
      if (md["version"]) cfg_.version = string(md["version"], "metadata.version");
    }
  }

 private:
  TaskFileConfig& cfg_;
};

}  // namespace

std::string TaskFileConfig::where(const std::string& key) const {
  const auto it = lines.find(key);
  return file.string() + (it == lines.end() ? "" : ":" + std::to_string(it->second)) + ": " + key;
}

TaskFileConfig parse_task_file(const std::filesystem::path& file) {
  TaskFileConfig cfg;
  cfg.file = file;
  cfg.version = "0";
  YAML::Node root;
  try {
    root = YAML::Load(data::read_text_file(file));
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Reader(cfg).read(root);
  return cfg;
}

}  // namespace slmq::eval::detail
