#pragma once
// A task file (YAML with lm-eval's field names) parsed and validated, before any data is read.
// Every error is a ConfigError (UnsupportedError for lm-eval features slmquant does not run)
// naming the file and the 1-based line of the offending key.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slmq/eval/task_filters.h"

namespace slmq::eval::detail {

// doc_to_text / doc_to_target / doc_to_choice as written: a string (a column name or a Jinja
// template), an integer, or a YAML list (doc_to_choice).
struct DocField {
  bool present = false;
  nlohmann::json value;  // string, integer or list of strings
  std::string where;     // "file.yaml:7: doc_to_text"
};

struct TaskFileConfig {
  std::filesystem::path file;
  std::string task;            // `task:`, else the file's stem
  std::string version;         // metadata.version as Python prints it ("1.0"), else "0"
  std::string output_type;     // multiple_choice | loglikelihood | loglikelihood_rolling |
                               // generate_until
  std::string dataset_format;  // json | csv (dataset_path)
  std::map<std::string, std::vector<std::string>> data_files;  // split -> files as written
  std::optional<std::string> training_split, validation_split, test_split, fewshot_split;
  std::string sampler = "default";  // default | first_n (fewshot_config.sampler)
  DocField doc_to_text, doc_to_target, doc_to_choice;
  std::string description;  // a template, rendered per eval doc
  std::string target_delimiter = " ", fewshot_delimiter = "\n\n";
  std::optional<int> num_fewshot;
  std::vector<MetricSpec> metrics;  // metric_list, else lm-eval's defaults for the output type
  std::vector<std::string> until;   // generation_kwargs.until (default [fewshot_delimiter])
  int max_gen_toks = 256;
  std::vector<FilterSpec> filters;                  // filter_list, else [{none: [take_first]}]
  std::string where(const std::string& key) const;  // "file.yaml:LINE: key" for errors
  std::map<std::string, size_t> lines;              // top-level key -> 1-based line
};

// Parses and validates `file`. ConfigError / UnsupportedError as described above; DataError when
// the file cannot be read.
TaskFileConfig parse_task_file(const std::filesystem::path& file);

}  // namespace slmq::eval::detail
