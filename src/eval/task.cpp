#include "slmq/eval/task.h"

#include <algorithm>

#include "slmq/core/error.h"
#include "slmq/eval/task_file.h"
#include "tasks/task_support.h"

namespace slmq::eval {

const MetricValue* TaskResult::metric(const std::string& metric_name,
                                      const std::string& filter) const {
  for (const auto& m : metrics) {
    if (m.name == metric_name && m.filter == filter) return &m;
  }
  return nullptr;
}

const TaskResult* TaskResult::find(const std::string& task_name) const {
  if (name == task_name) return this;
  for (const auto& child : children) {
    if (const TaskResult* hit = child.find(task_name)) return hit;
  }
  return nullptr;
}

std::vector<std::string> task_names() {
  return {"arc_easy", "arc_challenge", "piqa", "hellaswag", "mmlu", "wikitext", "gsm8k"};
}

bool is_task_name(const std::string& name) {
  const auto names = task_names();
  return std::find(names.begin(), names.end(), name) != names.end() ||
         detail::is_mmlu_task_name(name);
}

std::vector<std::string> expand_task_groups(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    // lm-eval's ai2_arc tag: its two tasks, reported each under its own name.
    if (name == "ai2_arc") {
      for (const char* t : {"arc_easy", "arc_challenge"})
        if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    } else if (std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
  }
  return out;
}

std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& options) {
  if (options.num_fewshot && *options.num_fewshot < 0)
    throw ConfigError("num_fewshot must be >= 0");
  if (name == "arc_easy" || name == "arc_challenge") return detail::make_arc_task(name, options);
  if (name == "piqa") return detail::make_piqa_task(options);
  if (name == "hellaswag") return detail::make_hellaswag_task(options);
  if (detail::is_mmlu_task_name(name)) return detail::make_mmlu_task(options, name);
  if (name == "wikitext") return detail::make_wikitext_task(options);
  if (name == "gsm8k") return detail::make_gsm8k_task(options);
  if (const auto file = find_task_file(name)) return make_file_task(*file, options);
  std::string known;
  for (const auto& n : task_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("unknown task '" + name + "' (known: " + known +
                    ", or a task file: a .yaml path or a name in tasks/, configs/tasks/)");
}

}  // namespace slmq::eval
