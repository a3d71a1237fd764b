#pragma once
// Tasks defined in YAML files with lm-evaluation-harness 0.4.12's field names (docs/task_files.md):
// a task file compiles into the same Requests the built-in tasks produce and is scored as
// lm-eval's ConfigurableTask scores them (acc / acc_norm, perplexity + greedy accuracy, word /
// byte perplexity and bits per byte, exact_match after regex filters). Data: local JSONL
// (dataset_path: json) or CSV (dataset_path: csv) named by dataset_kwargs.data_files; a relative
// file is looked up beside the task file first, then in the data directory.
//
//   auto task = make_task("configs/tasks/arc_easy_file.yaml", options);  // or a name in tasks/
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slmq/eval/task.h"

namespace slmq::eval {

// Folders searched for `<name>.yaml` / `<name>.yml`, in order: the entries of $SLMQ_TASKS_DIR
// (':'-separated), ./tasks, ./configs/tasks.
std::vector<std::filesystem::path> task_file_dirs();

// The task file `name` refers to: `name` itself when it ends in .yaml/.yml (ConfigError when that
// file does not exist), else the first <name>.yaml / <name>.yml in task_file_dirs(); nullopt when
// the name is not a file reference and no folder holds it.
std::optional<std::filesystem::path> find_task_file(const std::string& name);

// Parses the file (ConfigError / UnsupportedError naming file and line for unknown keys, bad
// values, templates that refer to fields the data does not have) and loads its data now
// (DataError naming the data file and line for missing files, malformed rows, absent columns).
std::unique_ptr<Task> make_file_task(const std::filesystem::path& file, const TaskOptions& options);

}  // namespace slmq::eval
