#include "slmq/eval/task.h"

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

std::unique_ptr<Task> make_task(const std::string& name, const TaskOptions& options) {
  if (options.num_fewshot && *options.num_fewshot < 0)
    throw ConfigError("num_fewshot must be >= 0");
  if (name == "arc_easy" || name == "arc_challenge") return detail::make_arc_task(name, options);
  if (name == "piqa") return detail::make_piqa_task(options);
  if (name == "hellaswag") return detail::make_hellaswag_task(options);
  if (name == "mmlu") return detail::make_mmlu_task(options);
  if (name == "wikitext") return detail::make_wikitext_task(options);
  if (name == "gsm8k") return detail::make_gsm8k_task(options);
  if (const auto file = find_task_file(name)) return make_file_task(*file, options);
  std::string known;
  for (const auto& n : task_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("unknown task '" + name + "' (known: " + known +
                    ", or a task file: a .yaml path or a name in tasks/, configs/tasks/)");
}

}  // namespace slmq::eval
