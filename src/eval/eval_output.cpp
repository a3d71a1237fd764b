#include "slmq/eval/eval_output.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "slmq/core/atomic_file.h"
#include "slmq/eval/result_json.h"

namespace slmq::eval {
namespace {

using nlohmann::json;

// Leaf results (those holding items) in depth-first order.
void collect_leaves(const TaskResult& r, std::vector<const TaskResult*>& out) {
  if (!r.items.empty() || r.children.empty()) out.push_back(&r);
  for (const auto& c : r.children) collect_leaves(c, out);
}

struct Headline {
  std::string kind, metric, filter, item_key;
};

Headline headline_for(const std::string& task, const TaskResult& result) {
  if (task == "mmlu") return {"accuracy", "acc", "none", "acc"};
  if (task == "gsm8k")
    return {"accuracy", "exact_match", "strict-match", "exact_match,strict-match"};
  if (task == "wikitext") return {"perplexity", "word_perplexity", "none", ""};
  if (result.metric("acc_norm") || result.metrics.empty())
    return {"accuracy", "acc_norm", "none", "acc_norm"};
  // A task file: its first metric, keyed per item as the task records it.
  const MetricValue& m = result.metrics.front();
  if (m.name.find("perplexity") != std::string::npos || m.name == "bits_per_byte")
    return {"perplexity", m.name, m.filter, ""};
  return {"accuracy", m.name, m.filter, m.filter == "none" ? m.name : m.key()};
}

std::string number(double v) { return fmt::format("{:.4f}", v); }

}  // namespace

json eval_settings_json(const LanguageModel& lm, const EvalRunOptions& options) {
  json j = {{"bos_policy", bos_policy_name(options.bos)},
            {"max_length", lm.max_length()},
            {"eos_text", lm.eos_text()},
            {"tasks", options.tasks},
            {"batch_tokens", options.batch_tokens > 0 ? json(options.batch_tokens) : json("auto")},
            {"stem_merge_width", options.stem_merge_width},
            {"lm_eval_version", "0.4.12"},
            {"log_softmax_dtype", "float32"}};
  j["bos_token"] = lm.bos_token() ? json(*lm.bos_token()) : json(nullptr);
  j["eos_token"] = lm.eos_token() ? json(*lm.eos_token()) : json(nullptr);
  j["prefix_token"] = lm.bos_token() || lm.eos_token() ? json(lm.prefix_token()) : json(nullptr);
  j["num_fewshot"] = options.num_fewshot ? json(*options.num_fewshot) : json("task default");
  j["limit"] = options.limit ? json(*options.limit) : json(nullptr);
  return j;
}

json lm_eval_results(const std::vector<TaskRun>& runs) {
  json out = json::object();
  std::function<void(const TaskResult&)> add = [&](const TaskResult& r) {
    json entry = {{"alias", r.name}};
    for (const auto& m : r.metrics) {
      entry[m.key()] = m.value;
      entry[m.stderr_key()] = m.stderr ? json(*m.stderr) : json("N/A");
    }
    out[r.name] = entry;
    for (const auto& c : r.children) add(c);
  };
  for (const auto& run : runs) add(run.result);
  return out;
}

json task_details(const std::vector<TaskRun>& runs) {
  json out = json::object();
  for (const auto& run : runs) {
    json j = result_to_json(run.result);
    j["load_seconds"] = run.load_seconds;
    j["wall_seconds"] = run.run_seconds;
    j["requests"] = run.stats.requests;
    j["requests_per_second"] = run.requests_per_second();
    j["work"] = {{"batches", run.stats.batches},
                 {"rows", run.stats.rows},
                 {"computed_tokens", run.stats.computed_tokens},
                 {"generated_tokens", run.stats.generated_tokens},
                 {"resumed_rows", run.stats.resumed_rows},
                 {"oom_retries", run.stats.oom_retries},
                 {"batch_token_divisor", run.stats.batch_token_divisor},
                 {"resumed_seconds", run.resumed_seconds}};
    out[run.task] = j;
  }
  return out;
}

json run_record_tasks(const std::vector<TaskRun>& runs) {
  json out = json::object();
  for (const auto& run : runs) {
    const Headline h = headline_for(run.task, run.result);
    const MetricValue* m = run.result.metric(h.metric, h.filter);
    if (!m) continue;
    json t = {{"kind", h.kind},
              {"metric", h.metric},
              {"value", m->value},
              {"n", run.result.num_samples},
              {"num_fewshot", run.result.num_fewshot}};
    if (m->stderr) t["stderr"] = *m->stderr;
    if (!h.item_key.empty()) {
      std::vector<const TaskResult*> leaves;
      collect_leaves(run.result, leaves);
      json correct = json::array(), ids = json::array();
      size_t position = 0;
      bool complete = true;
      for (const TaskResult* leaf : leaves) {
        for (const auto& item : leaf->items) {
          auto it = item.metrics.find(h.item_key);
          if (it == item.metrics.end())
            complete = false;
          else
            correct.push_back(it->second > 0.5 ? 1 : 0);
          // Leaves of a group are concatenated: ids are positions in that order.
          ids.push_back(leaves.size() > 1 ? position : item.doc_index);
          ++position;
        }
      }
      if (complete && correct.size() == run.result.num_samples) {
        t["correct"] = correct;
        t["doc_ids"] = ids;
      }
    }
    out[run.task] = t;
  }
  return out;
}

std::string results_table(const std::vector<TaskRun>& runs) {
  std::vector<std::vector<std::string>> rows;
  std::function<void(const TaskResult&, int)> add = [&](const TaskResult& r, int depth) {
    const std::string name =
        std::string(static_cast<size_t>(depth) * 2, ' ') + (depth > 0 ? "- " : "") + r.name;
    bool first = true;
    for (const auto& m : r.metrics) {
      rows.push_back({first ? name : "", first ? r.version : "", m.filter,
                      first ? std::to_string(r.num_fewshot) : "", m.name, number(m.value),
                      m.stderr ? number(*m.stderr) : "N/A"});
      first = false;
    }
    // Groups show their sub-groups; leaf subtasks (e.g. the 57 MMLU subjects) stay in the files.
    for (const auto& c : r.children)
      if (!c.children.empty()) add(c, depth + 1);
  };
  for (const auto& run : runs) add(run.result, 0);
  const std::vector<std::string> head = {"Tasks",  "Version", "Filter", "n-shot",
                                         "Metric", "Value",   "Stderr"};
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto right = [](size_t c) { return c == 1 || c == 3 || c == 5 || c == 6; };
  auto format_row = [&](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (size_t c = 0; c < cells.size(); ++c)
      s += right(c) ? fmt::format("{:>{}}|", cells[c], width[c])
                    : fmt::format("{:<{}}|", cells[c], width[c]);
    return s + "\n";
  };
  std::string out = format_row(head) + "|";
  for (size_t c = 0; c < head.size(); ++c)
    out += std::string(width[c] - (right(c) ? 1 : 0), '-') + (right(c) ? ":|" : "|");
  out += "\n";
  for (const auto& r : rows) out += format_row(r);
  out += "\n|Task|Requests|Wall s|Requests/s|\n|----|-------:|-----:|---------:|\n";
  for (const auto& run : runs) {
    out += fmt::format("|{}|{}|{:.1f}|{:.2f}|\n", run.task, run.stats.requests, run.run_seconds,
                       run.requests_per_second());
  }
  for (const auto& run : runs) {
    if (run.stats.resumed_rows == 0) continue;
    out += fmt::format(
        "{}: {} rows resumed from the journal, computed earlier in {:.1f} s (not in "
        "Wall s; Requests/s counts both)\n",
        run.task, run.stats.resumed_rows, run.resumed_seconds);
  }
  return out;
}

void write_samples(const std::filesystem::path& dir, const TaskRun& run) {
  make_directories(dir);
  AtomicFileWriter out(dir / ("samples_" + run.task + ".jsonl"));
  std::vector<const TaskResult*> leaves;
  collect_leaves(run.result, leaves);
  for (const TaskResult* leaf : leaves) {
    for (const auto& item : leaf->items) {
      json j = item_to_json(item);
      j["task"] = leaf->name;
      out.write(j.dump() + "\n");
    }
  }
  out.commit();
}

}  // namespace slmq::eval
