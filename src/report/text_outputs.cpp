// results.csv, report.md and the terminal table.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "slmq/report/report.h"

namespace slmq::report {
namespace {

using score::TaskKind;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_num(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? fmt::format("{:.10g}", *v) : "";
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::optional<double> objective(const RunSummary& r, const std::string& name) {
  auto it = r.objectives.find(name);
  return it == r.objectives.end() ? std::nullopt : std::optional<double>(it->second);
}

template <typename F>
std::optional<double> rel(const RunSummary& r, F f) {
  return r.relative ? f(*r.relative) : std::nullopt;
}

std::string pct_cell(const TaskStat& t) {
  if (t.result.kind == TaskKind::kPerplexity) return fmt::format("{:.2f}", t.result.value);
  std::string cell = fmt::format("{:.2f}", 100 * t.result.value);
  if (t.stderr_value) cell += fmt::format(" ± {:.2f}", 100 * *t.stderr_value);
  return cell;
}

std::string md_row(const std::vector<std::string>& cells) {
  return "| " + join(cells, " | ") + " |\n";
}

std::string md_header(const std::vector<std::string>& cells) {
  std::string sep = "|";
  for (std::size_t i = 0; i < cells.size(); ++i) sep += i == 0 ? " --- |" : " ---: |";
  return md_row(cells) + sep + "\n";
}

// The papers' column order and names; other tasks follow alphabetically under their own names.
const std::vector<std::pair<std::string, std::string>>& known_tasks() {
  static const std::vector<std::pair<std::string, std::string>> kTasks = {
      {"mmlu", "MMLU"},          {"arc_challenge", "ARC-c"}, {"arc_easy", "ARC-e"},
      {"piqa", "PIQA"},          {"hellaswag", "HellaSwag"}, {"gsm8k", "GSM8K"},
      {"wikitext2", "Wiki ppl"}, {"wikitext", "Wiki ppl"}};
  return kTasks;
}

std::size_t task_rank(const std::string& t) {
  const auto& k = known_tasks();
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (k[i].first == t) return i;
  }
  return k.size();
}

}  // namespace

bool paper_order(const std::string& a, const std::string& b) {
  return std::make_pair(task_rank(a), a) < std::make_pair(task_rank(b), b);
}

std::string display_name(const std::string& t) {
  for (const auto& [key, name] : known_tasks()) {
    if (key == t) return name;
  }
  return t;
}

namespace {

bool in(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string group_markdown(const Analysis& a, const Group& g) {
  std::string md = fmt::format("\n## {}\n\nBaseline: {}\n\n", g.model,
                               g.baseline_id.empty() ? "none found" : g.baseline_id);
  std::vector<std::string> tasks;
  for (const auto& id : g.run_ids) {
    for (const auto& [name, t] : find_run(a, id)->tasks) {
      if (!in(tasks, name)) tasks.push_back(name);
    }
  }
  std::sort(tasks.begin(), tasks.end(), paper_order);
  std::vector<std::string> head = {"Method"};
  for (const auto& t : tasks) head.push_back(display_name(t));
  head.insert(head.end(), {"SLMQ_perf", "Pareto"});
  md += "### Accuracy (%, ± stderr) and SLMQ_perf\n\n" + md_header(head);
  for (const auto& id : g.run_ids) {
    const RunSummary& r = *find_run(a, id);
    std::vector<std::string> row = {r.label + (r.ok ? "" : " (failed)")};
    for (const auto& t : tasks) row.push_back(r.tasks.count(t) ? pct_cell(r.tasks.at(t)) : "-");
    row.push_back(r.slmq_perf ? fmt::format("{:.2f}", r.slmq_perf->value) : "-");
    row.push_back(in(g.pareto.front, id) ? "yes" : "");
    md += md_row(row);
  }
  md +=
      "\n### Inference and quantization cost\n\n" +
      md_header({"Method", "Peak mem (MiB)", "Size (MiB)", "GMACs", "Tokens/s", "Latency p50 (ms)",
                 "TTFT p50 (ms)", "TPOT p50 (ms)", "Energy (J)", "SLMQ_infer (tok/s)",
                 "SLMQ_infer (MACs)", "Quant time (s)", "Quant peak mem (MiB)", "SLMQ_quant"});
  for (const auto& id : g.run_ids) {
    const RunSummary& r = *find_run(a, id);
    const auto& rec = a.records[r.record];
    md += md_row({r.label, fixed(rec.profile.peak_memory_mib, 2),
                  fixed(rec.profile.model_size_mib, 2), fixed(rec.profile.gmacs, 2),
                  fixed(rec.profile.tokens_per_s, 0), fixed(rec.profile.latency_ms_p50, 1),
                  fixed(rec.profile.ttft_ms_p50, 1), fixed(rec.profile.tpot_ms_p50, 2),
                  fixed(rec.profile.energy_j, 0), fixed(r.slmq_infer_tps, 1),
                  fixed(r.slmq_infer_macs, 1), fixed(rec.quant_cost.wall_time_s, 1),
                  fixed(rec.quant_cost.peak_memory_mib, 2), fixed(r.slmq_quant, 1)});
  }
  std::string rel_rows;
  std::vector<std::string> rhead = {"Method",    "Speedup (tok/s)", "Latency ratio",
                                    "Memory Δ%", "Size Δ%",         "Energy red. %"};
  std::vector<std::string> acc_tasks;
  for (const auto& t : tasks) {
    bool any = false;
    for (const auto& id : g.run_ids) {
      const RunSummary& r = *find_run(a, id);
      any |= r.relative && r.relative->accuracy_change_pct.count(t);
    }
    if (any) {
      acc_tasks.push_back(t);
      rhead.push_back(display_name(t) + " Δ%");
    }
  }
  for (const auto& id : g.run_ids) {
    const RunSummary& r = *find_run(a, id);
    if (!r.relative) continue;
    const auto& m = *r.relative;
    std::vector<std::string> row = {r.label,
                                    fixed(m.speedup, 2),
                                    fixed(m.latency_ratio, 2),
                                    fixed(m.memory_change_pct, 2),
                                    fixed(m.size_change_pct, 2),
                                    fixed(m.energy_reduction_pct, 1)};
    for (const auto& t : acc_tasks) {
      auto it = m.accuracy_change_pct.find(t);
      row.push_back(it == m.accuracy_change_pct.end() ? "-" : fmt::format("{:.2f}", it->second));
    }
    rel_rows += md_row(row);
  }
  if (!rel_rows.empty())
    md += "\n### Relative to the baseline (SLiM-Eval metrics)\n\n" + md_header(rhead) + rel_rows;
  std::string cmp_rows;
  for (const auto& id : g.run_ids) {
    const RunSummary& r = *find_run(a, id);
    for (const auto& [task, c] : r.comparisons) {
      cmp_rows += md_row({r.label, task, fmt::format("{:+.2f}", 100 * c.diff),
                          fmt::format("[{:+.2f}, {:+.2f}]", 100 * c.ci_low, 100 * c.ci_high),
                          fmt::format("{:.3g}", c.p_value), c.method,
                          c.significant ? "yes" : "not significant"});
    }
  }
  if (!cmp_rows.empty()) {
    md += "\n### Accuracy differences against the baseline\n\n" +
          md_header({"Method", "Task", "Δ (pp)", "95% CI (pp)", "p", "Test", "Significant"}) +
          cmp_rows;
  }
  md += "\n### Flags\n\n";
  bool any_flag = false;
  for (const auto& id : g.run_ids) {
    for (const auto& f : find_run(a, id)->flags) {
      md += fmt::format("- {}: {}\n", id, f);
      any_flag = true;
    }
  }
  if (!any_flag) md += "None.\n";
  if (g.run_ids.size() < 2) return md;
  md += "\n### Recommendations\n\n";
  for (const auto& rec : g.recommendations) {
    md += fmt::format("- **{}**: {} — {}\n", rec.scenario, rec.run_id.empty() ? "none" : rec.run_id,
                      rec.reason);
  }
  return md;
}

}  // namespace

std::string fixed(const std::optional<double>& v, int decimals) {
  return v && std::isfinite(*v) ? fmt::format("{:.{}f}", *v, decimals) : "-";
}

std::string results_csv(const Analysis& a) {
  std::vector<std::string> head = {"id",     "model",       "label",  "method",       "w_bits",
                                   "a_bits", "is_baseline", "status", "mean_accuracy"};
  for (const auto& t : a.tasks) {
    head.push_back(t);
    head.push_back(t + "_stderr");
  }
  const std::vector<std::string> objs = {"tokens_per_s",   "latency_ms", "peak_memory_mib",
                                         "model_size_mib", "gmacs",      "energy_j",
                                         "quant_time_s"};
  for (const char* c :
       {"slmq_perf", "slmq_infer_tps", "slmq_infer_macs", "slmq_quant", "speedup", "latency_ratio",
        "memory_change_pct", "size_change_pct", "energy_reduction_pct"}) {
    head.push_back(c);
  }
  head.insert(head.end(), objs.begin(), objs.end());
  head.insert(head.end(), {"pareto_front", "flags", "source_file"});
  std::string out = join(head, ",") + "\n";
  for (const auto& r : a.runs) {
    const auto& rec = a.records[r.record];
    std::vector<std::string> row = {csv_field(r.id),
                                    csv_field(r.model),
                                    csv_field(r.label),
                                    csv_field(rec.quant.method),
                                    std::to_string(rec.quant.w_bits),
                                    std::to_string(rec.quant.a_bits),
                                    r.is_baseline ? "true" : "false",
                                    rec.status,
                                    csv_num(r.mean_accuracy)};
    for (const auto& t : a.tasks) {
      auto it = r.tasks.find(t);
      row.push_back(it == r.tasks.end() ? "" : csv_num(it->second.result.value));
      row.push_back(it == r.tasks.end() ? "" : csv_num(it->second.stderr_value));
    }
    row.push_back(csv_num(r.slmq_perf ? std::optional<double>(r.slmq_perf->value) : std::nullopt));
    row.push_back(csv_num(r.slmq_infer_tps));
    row.push_back(csv_num(r.slmq_infer_macs));
    row.push_back(csv_num(r.slmq_quant));
    row.push_back(csv_num(rel(r, [](const auto& m) { return m.speedup; })));
    row.push_back(csv_num(rel(r, [](const auto& m) { return m.latency_ratio; })));
    row.push_back(csv_num(rel(r, [](const auto& m) { return m.memory_change_pct; })));
    row.push_back(csv_num(rel(r, [](const auto& m) { return m.size_change_pct; })));
    row.push_back(csv_num(rel(r, [](const auto& m) { return m.energy_reduction_pct; })));
    for (const auto& o : objs) row.push_back(csv_num(objective(r, o)));
    row.push_back(in(a.pareto.front, r.id) ? "true" : "false");
    row.push_back(csv_field(join(r.flags, "; ")));
    row.push_back(csv_field(rec.path.string()));
    out += join(row, ",") + "\n";
  }
  return out;
}

std::string report_markdown(const Analysis& a) {
  std::string md = "# slmquant report\n\n";
  int used = 0;
  for (const auto& f : a.inputs) used += f.status == "used";
  md += fmt::format(
      "{} result file(s) used, {} skipped. Accuracies in %, stderr as lm-eval computes it "
      "(or binomial from n where the file has none). Definitions: docs/scores.md.\n",
      used, a.inputs.size() - used);
  std::string skipped;
  for (const auto& f : a.inputs) {
    if (f.status != "used") skipped += fmt::format("- {} ({}): {}\n", f.path, f.status, f.reason);
  }
  if (!skipped.empty()) md += "\n### Skipped inputs\n\n" + skipped;
  for (const auto& g : a.groups) md += group_markdown(a, g);
  md += "\n## Pareto set over all runs\n\nObjectives: " + join(a.pareto.objectives, ", ") + "\n\n";
  md += "Non-dominated: " +
        (a.pareto.front.empty() ? std::string("none") : join(a.pareto.front, "; ")) + "\n";
  if (!a.pareto.not_ranked.empty()) md += "\nNot ranked: " + join(a.pareto.not_ranked, "; ") + "\n";
  for (const auto& f : a.pareto.fronts_2d) {
    md += fmt::format("\n- {} vs {}: {} of {} runs on the front: {}\n", f.y, f.x, f.front.size(),
                      f.points.size(), join(f.front, "; "));
  }
  return md;
}

std::string terminal_table(const Analysis& a, int width) {
  std::vector<std::array<std::string, 8>> rows = {{"Run", "Acc %", "SLMQ_perf", "Speedup",
                                                   "Mem chg %", "Energy red. %", "SLMQ_quant",
                                                   "Flags"}};
  for (const auto& r : a.runs) {
    rows.push_back(
        {r.id,
         fixed(r.mean_accuracy ? std::optional<double>(100 * *r.mean_accuracy) : std::nullopt, 2),
         r.slmq_perf ? fmt::format("{:.2f}", r.slmq_perf->value) : (r.is_baseline ? "base" : "-"),
         fixed(rel(r, [](const auto& m) { return m.speedup; }), 2),
         fixed(rel(r, [](const auto& m) { return m.memory_change_pct; }), 1),
         fixed(rel(r, [](const auto& m) { return m.energy_reduction_pct; }), 1),
         fixed(r.slmq_quant, 1), std::to_string(r.flags.size())});
  }
  std::array<std::size_t, 8> w{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += c == 0 ? fmt::format("{:<{}}", row[c], w[c]) : fmt::format("  {:>{}}", row[c], w[c]);
    }
    if (static_cast<int>(line.size()) > width)
      line.resize(static_cast<std::size_t>(std::max(width, 10)));
    out += line + "\n";
  }
  return out;
}

}  // namespace slmq::report
