#include "slmq/report/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "slmq/core/error.h"

namespace slmq::report {

std::vector<Front2d> fronts_2d(const Analysis& analysis, const std::vector<std::string>& ids,
                               const std::vector<std::string>& objectives);
ParetoResult pareto_over(const Analysis& analysis, const std::vector<std::string>& ids,
                         const std::vector<std::string>& objectives,
                         const std::vector<std::string>& plotted);
std::vector<Recommendation> recommend(const Analysis& analysis, const Group& group,
                                      double accuracy_guard);

namespace {

using score::Direction;
using score::RunRecord;
using score::TaskKind;

const std::vector<std::string> kDefaultObjectives = {
    "accuracy",       "tokens_per_s", "latency_ms", "peak_memory_mib",
    "model_size_mib", "gmacs",        "energy_j",   "quant_time_s"};

TaskStat task_stat(const score::TaskResult& t) {
  TaskStat s{t, t.stderr_value, t.stderr_value ? "reported" : ""};
  if (s.stderr_value || t.kind != TaskKind::kAccuracy) return s;
  if (t.correct.size() >= 2) {
    std::vector<double> v(t.correct.begin(), t.correct.end());
    s.stderr_value = score::mean_stderr(v);
    s.stderr_source = "per-item";
  } else if (t.n && *t.n >= 2) {
    s.stderr_value = score::proportion_stderr(t.value, *t.n);
    s.stderr_source = "binomial from n";
  }
  return s;
}

// Aligns per-item scores by doc_ids when both runs have them, else by position.
bool align_items(const score::TaskResult& a, const score::TaskResult& b,
                 std::vector<std::int8_t>* xa, std::vector<std::int8_t>* xb) {
  if (a.correct.empty() || b.correct.empty()) return false;
  if (!a.doc_ids.empty() && !b.doc_ids.empty()) {
    std::map<std::int64_t, std::int8_t> by_id;
    for (std::size_t i = 0; i < b.doc_ids.size(); ++i) by_id[b.doc_ids[i]] = b.correct[i];
    for (std::size_t i = 0; i < a.doc_ids.size(); ++i) {
      auto it = by_id.find(a.doc_ids[i]);
      if (it == by_id.end()) continue;
      xa->push_back(a.correct[i]);
      xb->push_back(it->second);
    }
    return !xa->empty();
  }
  if (a.correct.size() != b.correct.size()) return false;
  *xa = a.correct;
  *xb = b.correct;
  return true;
}

void compare_tasks(const Analysis& analysis, const RunSummary& base, RunSummary* run,
                   const score::ComparisonOptions& options) {
  std::vector<std::string> not_significant;
  std::vector<std::string> unpaired;
  for (const auto& [name, q] : run->tasks) {
    auto it = base.tasks.find(name);
    if (it == base.tasks.end() || q.result.kind != TaskKind::kAccuracy) continue;
    const TaskStat& b = it->second;
    if (!score::comparable(q.result, b.result, nullptr)) continue;
    std::vector<std::int8_t> xb, xq;
    score::PairedComparison c;
    if (align_items(b.result, q.result, &xb, &xq)) {
      c = score::compare_paired(xb, xq, options);
    } else if (b.stderr_value && q.stderr_value) {
      c = score::compare_unpaired(b.result.value, *b.stderr_value, q.result.value, *q.stderr_value,
                                  q.result.n.value_or(0), options);
      unpaired.push_back(name);
    } else {
      continue;
    }
    if (!c.significant) not_significant.push_back(name);
    run->comparisons[name] = c;
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  if (!not_significant.empty()) run->flags.push_back("not significant: " + join(not_significant));
  if (!unpaired.empty()) run->flags.push_back("no per-item data, unpaired test: " + join(unpaired));
}

void add_speed_flags(RunSummary* run) {
  const auto& rel = *run->relative;
  if (rel.speedup ? *rel.speedup < 1 : (rel.latency_ratio && *rel.latency_ratio < 1)) {
    run->flags.push_back(
        rel.speedup ? fmt::format("slower than baseline ({:.2f}x tokens/s)", *rel.speedup)
                    : fmt::format("slower than baseline ({:.2f}x latency)", *rel.latency_ratio));
  }
  if (rel.size_change_pct && *rel.size_change_pct > 0) {
    run->flags.push_back(
        fmt::format("larger than baseline (+{:.1f}% model size)", *rel.size_change_pct));
  }
  if (rel.memory_change_pct && *rel.memory_change_pct > 0) {
    run->flags.push_back(
        fmt::format("more memory than baseline (+{:.1f}%)", *rel.memory_change_pct));
  }
}

void fill_objectives(const RunRecord& rec, RunSummary* run) {
  auto put = [&](const char* name, const std::optional<double>& v) {
    if (v) run->objectives[name] = *v;
  };
  if (run->mean_accuracy) run->objectives["accuracy"] = 100.0 * *run->mean_accuracy;
  if (run->slmq_perf) run->objectives["slmq_perf"] = run->slmq_perf->value;
  put("tokens_per_s", rec.profile.tokens_per_s);
  put("latency_ms", rec.profile.latency_ms_p50);
  put("peak_memory_mib", rec.profile.peak_memory_mib);
  put("model_size_mib", rec.profile.model_size_mib);
  put("gmacs", rec.profile.gmacs);
  put("energy_j", rec.profile.energy_j);
  // An unquantized model costs nothing to quantize; that keeps baselines on cost fronts.
  put("quant_time_s",
      rec.quant.is_baseline() ? std::optional<double>(0.0) : rec.quant_cost.wall_time_s);
}

// A baseline's zero quantization time only means something beside quantized runs whose time was
// measured; elsewhere it would put lone baselines on cost plots.
void drop_free_baseline_cost(Analysis* analysis) {
  for (const auto& group : analysis->groups) {
    bool measured = false;
    for (const auto& id : group.run_ids) {
      const RunSummary* run = find_run(*analysis, id);
      measured |= run->ok && !run->is_baseline && run->objectives.count("quant_time_s");
    }
    if (measured) continue;
    for (auto& run : analysis->runs) {
      if (run.model == group.model && run.is_baseline) run.objectives.erase("quant_time_s");
    }
  }
}

RunSummary summarize(const Analysis& analysis, std::size_t index, std::set<std::string>* ids) {
  const RunRecord& rec = analysis.records[index];
  RunSummary run;
  run.record = index;
  run.model = rec.model.name;
  run.label = rec.quant.label;
  run.id = run.model + " " + run.label;
  for (int k = 2; ids->count(run.id); ++k)
    run.id = fmt::format("{} {} #{}", run.model, run.label, k);
  ids->insert(run.id);
  run.ok = rec.ok();
  run.failed_reason = rec.failed_reason;
  if (!run.ok)
    run.flags.push_back("failed: " +
                        (rec.failed_reason.empty() ? "no reason given" : rec.failed_reason));
  double sum = 0;
  int count = 0;
  for (const auto& [name, t] : rec.tasks) {
    run.tasks[name] = task_stat(t);
    if (t.kind == TaskKind::kAccuracy) {
      sum += t.value;
      ++count;
    }
  }
  if (count > 0) run.mean_accuracy = sum / count;
  return run;
}

void score_against_baseline(Analysis* analysis, RunSummary* run, const RunSummary& base,
                            const AnalysisOptions& options) {
  const RunRecord& rec = analysis->records[run->record];
  const RunRecord& b = analysis->records[base.record];
  run->baseline_id = base.id;
  run->slmq_perf = score::slmq_perf(rec, b);
  run->slmq_infer_tps = score::slmq_infer(rec, b, score::InferThroughput::kTokensPerS);
  run->slmq_infer_macs = score::slmq_infer(rec, b, score::InferThroughput::kMacs);
  run->relative = score::relative_metrics(rec, b);
  compare_tasks(*analysis, base, run, options.comparison);
  add_speed_flags(run);
}

void check_objectives(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    bool known = std::any_of(objective_catalog().begin(), objective_catalog().end(),
                             [&](const Objective& o) { return o.name == name; });
    if (!known) throw ConfigError(fmt::format("--objectives: unknown objective '{}'", name));
  }
}

// Default objectives of a scope: those measured by at least `min_share` of its successful runs
// (and by two at least). The N-D set uses half, so that a few runs measured more thoroughly do not
// empty it; the 2-D plots use any objective two runs share.
std::vector<std::string> default_objectives(const Analysis& analysis,
                                            const std::vector<std::string>& ids, double min_share) {
  std::vector<std::string> chosen;
  int ok = 0;
  for (const auto& id : ids) ok += find_run(analysis, id)->ok;
  for (const auto& name : kDefaultObjectives) {
    int measured = 0;
    for (const auto& id : ids) {
      const RunSummary* run = find_run(analysis, id);
      measured += run->ok && run->objectives.count(name);
    }
    if (measured >= 2 && measured >= min_share * ok) chosen.push_back(name);
  }
  return chosen;
}

ParetoResult pareto_for(const Analysis& analysis, const std::vector<std::string>& ids,
                        const AnalysisOptions& options) {
  if (!options.objectives.empty())
    return pareto_over(analysis, ids, options.objectives, options.objectives);
  return pareto_over(analysis, ids, default_objectives(analysis, ids, 0.5),
                     default_objectives(analysis, ids, 0));
}

}  // namespace

const std::vector<Objective>& objective_catalog() {
  static const std::vector<Objective> kCatalog = {
      {"accuracy", "Mean accuracy (%)", Direction::kMaximize},
      {"slmq_perf", "SLMQ_perf", Direction::kMaximize},
      {"tokens_per_s", "Throughput (tokens/s)", Direction::kMaximize},
      {"latency_ms", "Latency p50 (ms)", Direction::kMinimize},
      {"peak_memory_mib", "Peak memory (MiB)", Direction::kMinimize},
      {"model_size_mib", "Model size (MiB)", Direction::kMinimize},
      {"gmacs", "Compute (GMACs)", Direction::kMinimize},
      {"energy_j", "Energy (J)", Direction::kMinimize},
      {"quant_time_s", "Quantization time (s)", Direction::kMinimize},
  };
  return kCatalog;
}

const std::vector<BalancedWeight>& balanced_weights() {
  static const std::vector<BalancedWeight> kWeights = {{"slmq_perf", 0.40},
                                                       {"tokens_per_s", 0.20},
                                                       {"peak_memory_mib", 0.15},
                                                       {"energy_j", 0.15},
                                                       {"model_size_mib", 0.10}};
  return kWeights;
}

const RunSummary* find_run(const Analysis& analysis, const std::string& id) {
  for (const auto& run : analysis.runs) {
    if (run.id == id) return &run;
  }
  return nullptr;
}

Analysis analyze(std::vector<RunRecord> records, const AnalysisOptions& options) {
  Analysis analysis;
  analysis.records = std::move(records);
  std::vector<std::string> models;
  for (const auto& rec : analysis.records) {
    if (std::find(models.begin(), models.end(), rec.model.name) == models.end())
      models.push_back(rec.model.name);
  }
  std::set<std::string> ids;
  std::set<std::string> tasks;
  for (const auto& model : models) {
    Group group{model, "", {}, {}, {}};
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < analysis.records.size(); ++i) {
      const auto& rec = analysis.records[i];
      if (rec.model.name == model && rec.ok() && rec.quant.is_baseline()) order.push_back(i);
    }
    for (std::size_t i = 0; i < analysis.records.size(); ++i) {
      const auto& rec = analysis.records[i];
      if (rec.model.name == model && !(rec.ok() && rec.quant.is_baseline())) order.push_back(i);
    }
    std::size_t first = analysis.runs.size();
    for (std::size_t i : order) {
      analysis.runs.push_back(summarize(analysis, i, &ids));
      for (const auto& [name, t] : analysis.records[i].tasks) tasks.insert(name);
    }
    const bool has_baseline = !order.empty() && analysis.records[order[0]].quant.is_baseline() &&
                              analysis.records[order[0]].ok();
    std::vector<const RunRecord*> quantized;
    std::vector<RunSummary*> quantized_runs;
    for (std::size_t r = first; r < analysis.runs.size(); ++r) {
      RunSummary& run = analysis.runs[r];
      group.run_ids.push_back(run.id);
      const RunRecord& rec = analysis.records[run.record];
      if (has_baseline && r == first) {
        run.is_baseline = true;
        group.baseline_id = run.id;
        continue;
      }
      if (!run.ok) continue;
      if (rec.quant.is_baseline())
        run.flags.push_back("second baseline of this model; compared with the first");
      if (has_baseline) {
        score_against_baseline(&analysis, &run, analysis.runs[first], options);
      } else {
        run.flags.push_back("no baseline for this model: relative metrics not computed");
      }
      quantized.push_back(&rec);
      quantized_runs.push_back(&run);
    }
    auto quant_scores = score::slmq_quant(quantized);
    for (std::size_t k = 0; k < quantized_runs.size(); ++k)
      quantized_runs[k]->slmq_quant = quant_scores[k];
    analysis.groups.push_back(std::move(group));
  }
  for (auto& run : analysis.runs) fill_objectives(analysis.records[run.record], &run);
  drop_free_baseline_cost(&analysis);
  analysis.tasks.assign(tasks.begin(), tasks.end());
  check_objectives(options.objectives);
  std::vector<std::string> all_ids;
  for (const auto& run : analysis.runs) all_ids.push_back(run.id);
  analysis.pareto = pareto_for(analysis, all_ids, options);
  for (auto& group : analysis.groups) {
    group.pareto = pareto_for(analysis, group.run_ids, options);
    group.recommendations = recommend(analysis, group, options.accuracy_guard);
  }
  return analysis;
}

}  // namespace slmq::report
