#include <cmath>

#include "slmq/core/version.h"
#include "slmq/report/report.h"

namespace slmq::report {
namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

json task_json(const TaskStat& t) {
  json j = {{"kind", t.result.kind == score::TaskKind::kAccuracy ? "accuracy" : "perplexity"},
            {"metric", t.result.metric},
            {"value", t.result.value},
            {"stderr", opt(t.stderr_value)},
            {"stderr_source", t.stderr_source},
            {"n", t.result.n ? json(*t.result.n) : json(nullptr)},
            {"per_item", !t.result.correct.empty()}};
  return j;
}

json relative_json(const std::optional<score::RelativeMetrics>& rel) {
  if (!rel) return nullptr;
  return {{"speedup", opt(rel->speedup)},
          {"latency_ratio", opt(rel->latency_ratio)},
          {"memory_change_pct", opt(rel->memory_change_pct)},
          {"size_change_pct", opt(rel->size_change_pct)},
          {"energy_reduction_pct", opt(rel->energy_reduction_pct)},
          {"accuracy_change_pct", rel->accuracy_change_pct}};
}

json comparison_json(const score::PairedComparison& c) {
  return {{"method", c.method},
          {"paired", c.paired},
          {"n", c.n},
          {"diff", c.diff},
          {"ci_low", c.ci_low},
          {"ci_high", c.ci_high},
          {"base_only", c.base_only},
          {"quant_only", c.quant_only},
          {"p_value", c.p_value},
          {"significant", c.significant}};
}

json scores_json(const RunSummary& r) {
  json perf_tasks = json::array();
  json skipped = json::array();
  if (r.slmq_perf) {
    perf_tasks = r.slmq_perf->tasks;
    skipped = r.slmq_perf->skipped;
  }
  return {{"slmq_perf", r.slmq_perf ? json(r.slmq_perf->value) : json(nullptr)},
          {"slmq_perf_tasks", perf_tasks},
          {"slmq_perf_skipped", skipped},
          {"slmq_infer_tps", opt(r.slmq_infer_tps)},
          {"slmq_infer_macs", opt(r.slmq_infer_macs)},
          {"slmq_quant", opt(r.slmq_quant)}};
}

json run_json(const Analysis& a, const RunSummary& r) {
  const score::RunRecord& rec = a.records[r.record];
  json tasks = json::object();
  for (const auto& [name, t] : r.tasks) tasks[name] = task_json(t);
  json comparisons = json::object();
  for (const auto& [name, c] : r.comparisons) comparisons[name] = comparison_json(c);
  json full = score::to_json(rec);
  return {{"id", r.id},
          {"model", r.model},
          {"label", r.label},
          {"method", rec.quant.method},
          {"w_bits", rec.quant.w_bits},
          {"a_bits", rec.quant.a_bits},
          {"is_baseline", r.is_baseline},
          {"baseline", r.baseline_id.empty() ? json(nullptr) : json(r.baseline_id)},
          {"status", rec.status},
          {"failed_reason", rec.failed_reason},
          {"source_file", rec.path.string()},
          {"tasks", tasks},
          {"mean_accuracy", opt(r.mean_accuracy)},
          {"scores", scores_json(r)},
          {"relative", relative_json(r.relative)},
          {"comparisons", comparisons},
          {"objectives", r.objectives},
          {"flags", r.flags},
          {"profile", full["profile"]},
          {"quant_cost", full["quant_cost"]},
          {"environment", rec.environment}};
}

json pareto_json(const ParetoResult& p) {
  json fronts = json::array();
  for (const auto& f : p.fronts_2d) {
    fronts.push_back({{"x", f.x}, {"y", f.y}, {"points", f.points}, {"front", f.front}});
  }
  return {{"objectives", p.objectives},
          {"candidates", p.candidates},
          {"front", p.front},
          {"not_ranked", p.not_ranked},
          {"fronts_2d", fronts}};
}

}  // namespace

json summary_json(const Analysis& a) {
  json objectives = json::array();
  for (const auto& o : objective_catalog()) {
    objectives.push_back(
        {{"name", o.name},
         {"label", o.label},
         {"direction", o.direction == score::Direction::kMaximize ? "max" : "min"}});
  }
  json inputs = json::array();
  for (const auto& f : a.inputs)
    inputs.push_back({{"path", f.path}, {"status", f.status}, {"reason", f.reason}});
  json runs = json::array();
  for (const auto& r : a.runs) runs.push_back(run_json(a, r));
  json groups = json::array();
  for (const auto& g : a.groups) {
    json recs = json::array();
    for (const auto& r : g.recommendations) {
      recs.push_back({{"scenario", r.scenario},
                      {"run", r.run_id.empty() ? json(nullptr) : json(r.run_id)},
                      {"reason", r.reason}});
    }
    groups.push_back({{"model", g.model},
                      {"baseline", g.baseline_id.empty() ? json(nullptr) : json(g.baseline_id)},
                      {"runs", g.run_ids},
                      {"pareto", pareto_json(g.pareto)},
                      {"recommendations", recs}});
  }
  json weights = json::object();
  for (const auto& w : balanced_weights()) weights[w.objective] = w.weight;
  return {{"schema", "slmquant.summary"},
          {"schema_version", kSummarySchemaVersion},
          {"generator", {{"slmquant", git_commit()}}},
          {"objective_catalog", objectives},
          {"balanced_weights", weights},
          {"inputs", inputs},
          {"tasks", a.tasks},
          {"runs", runs},
          {"groups", groups},
          {"pareto", pareto_json(a.pareto)}};
}

}  // namespace slmq::report
