// Pareto sets and the per-model recommendations built on top of an Analysis.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "slmq/core/error.h"
#include "slmq/report/analysis.h"

namespace slmq::report {
namespace {

using score::Direction;

const Objective& objective(const std::string& name) {
  for (const auto& o : objective_catalog()) {
    if (o.name == name) return o;
  }
  throw InternalError("unknown objective " + name);
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool better(double a, double b, Direction d) { return d == Direction::kMaximize ? a > b : a < b; }

std::string fmt_value(const std::string& name, double v) {
  if (name == "accuracy") return fmt::format("{:.2f}%", v);
  if (name == "slmq_perf") return fmt::format("SLMQ_perf {:.2f}", v);
  if (name == "tokens_per_s") return fmt::format("{:.0f} tokens/s", v);
  if (name == "latency_ms") return fmt::format("{:.1f} ms p50 latency", v);
  if (name == "peak_memory_mib") return fmt::format("{:.1f} MiB peak memory", v);
  if (name == "model_size_mib") return fmt::format("{:.1f} MiB model size", v);
  if (name == "gmacs") return fmt::format("{:.2f} GMACs", v);
  if (name == "energy_j") return fmt::format("{:.4g} J", v);
  return fmt::format("{:.4g} s quantization time", v);
}

struct Candidates {
  std::vector<const RunSummary*> runs;
  std::string note;  // how the accuracy guard was applied
};

Candidates guarded(const Analysis& analysis, const Group& group, double guard) {
  Candidates all;
  for (const auto& id : group.run_ids) {
    const RunSummary* run = find_run(analysis, id);
    if (run->ok && !run->is_baseline) all.runs.push_back(run);
  }
  Candidates kept;
  for (const RunSummary* run : all.runs) {
    if (!run->slmq_perf || run->slmq_perf->value >= guard) kept.runs.push_back(run);
  }
  if (kept.runs.empty()) {
    all.note =
        fmt::format(" (no run keeps SLMQ_perf >= {:g}, so none was excluded for accuracy)", guard);
    return all;
  }
  kept.note = kept.runs.size() == all.runs.size()
                  ? ""
                  : fmt::format(" among the {} of {} runs keeping SLMQ_perf >= {:g}",
                                kept.runs.size(), all.runs.size(), guard);
  return kept;
}

// The candidate best in the first objective of `preference` that any candidate measured.
Recommendation best_by(const std::string& scenario, const Candidates& c,
                       const std::vector<std::string>& preference) {
  for (const auto& name : preference) {
    const RunSummary* best = nullptr;
    int measured = 0;
    for (const RunSummary* run : c.runs) {
      auto it = run->objectives.find(name);
      if (it == run->objectives.end()) continue;
      ++measured;
      if (!best || better(it->second, best->objectives.at(name), objective(name).direction))
        best = run;
    }
    if (!best) continue;
    std::string superlative =
        objective(name).direction == Direction::kMaximize ? "highest" : "lowest";
    std::string reason = fmt::format("{} {} of {} measured quantized run(s){}: {}", superlative,
                                     objective(name).label, measured, c.note,
                                     fmt_value(name, best->objectives.at(name)));
    if (best->slmq_perf && name != "slmq_perf")
      reason += fmt::format(", SLMQ_perf {:.2f}", best->slmq_perf->value);
    return {scenario, best->id, reason};
  }
  return {scenario, "", "no quantized run measured " + join(preference, " or ")};
}

Recommendation balanced(const Candidates& c) {
  std::vector<std::string> used;
  std::vector<double> weights;
  double total = 0;
  for (const auto& w : balanced_weights()) {
    bool everyone =
        !c.runs.empty() && std::all_of(c.runs.begin(), c.runs.end(), [&](const RunSummary* r) {
          return r->objectives.count(w.objective) > 0;
        });
    if (!everyone) continue;
    used.push_back(w.objective);
    weights.push_back(w.weight);
    total += w.weight;
  }
  if (used.empty())
    return {"balanced", "",
            "no objective with a balanced weight is measured for every quantized run"};
  const RunSummary* best = nullptr;
  double best_score = -1;
  for (const RunSummary* run : c.runs) {
    double score = 0;
    for (std::size_t k = 0; k < used.size(); ++k) {
      double lo = HUGE_VAL, hi = -HUGE_VAL;
      for (const RunSummary* other : c.runs) {
        lo = std::min(lo, other->objectives.at(used[k]));
        hi = std::max(hi, other->objectives.at(used[k]));
      }
      double v = run->objectives.at(used[k]);
      double norm = hi > lo ? (v - lo) / (hi - lo) : 1.0;
      if (objective(used[k]).direction == Direction::kMinimize) norm = hi > lo ? 1 - norm : 1.0;
      score += weights[k] / total * norm;
    }
    if (score > best_score) {
      best_score = score;
      best = run;
    }
  }
  std::vector<std::string> parts;
  for (std::size_t k = 0; k < used.size(); ++k)
    parts.push_back(fmt::format("{} {:.2f}", used[k], weights[k] / total));
  return {
      "balanced", best->id,
      fmt::format("highest weighted score {:.3f} of {} run(s){} (min-max normalised; weights {})",
                  best_score, c.runs.size(), c.note, join(parts, ", "))};
}

}  // namespace

ParetoResult pareto_core(const Analysis& analysis, const std::vector<std::string>& ids,
                         const std::vector<std::string>& objectives);

std::vector<Front2d> fronts_2d(const Analysis& analysis, const std::vector<std::string>& ids,
                               const std::vector<std::string>& objectives) {
  std::vector<Front2d> out;
  for (std::size_t k = 1; k < objectives.size(); ++k) {
    // x is the cost objective, y the first (usually accuracy): the usual trade-off plot.
    ParetoResult p = pareto_core(analysis, ids, {objectives[k], objectives[0]});
    Front2d f{objectives[k], objectives[0], p.candidates, p.front};
    std::sort(f.front.begin(), f.front.end(), [&](const std::string& a, const std::string& b) {
      return find_run(analysis, a)->objectives.at(f.x) < find_run(analysis, b)->objectives.at(f.x);
    });
    out.push_back(std::move(f));
  }
  return out;
}

ParetoResult pareto_core(const Analysis& analysis, const std::vector<std::string>& ids,
                         const std::vector<std::string>& objectives) {
  ParetoResult result;
  result.objectives = objectives;
  std::vector<std::vector<double>> points;
  std::vector<Direction> dirs;
  for (const auto& name : objectives) dirs.push_back(objective(name).direction);
  for (const auto& id : ids) {
    const RunSummary* run = find_run(analysis, id);
    if (!run->ok) continue;
    std::vector<std::string> missing;
    std::vector<double> point;
    for (const auto& name : objectives) {
      auto it = run->objectives.find(name);
      if (it == run->objectives.end()) {
        missing.push_back(name);
      } else {
        point.push_back(it->second);
      }
    }
    if (!missing.empty()) {
      result.not_ranked.push_back(id + ": missing " + join(missing, ", "));
      continue;
    }
    result.candidates.push_back(id);
    points.push_back(std::move(point));
  }
  if (objectives.empty()) return result;
  for (std::size_t i : score::pareto_set(points, dirs))
    result.front.push_back(result.candidates[i]);
  return result;
}

ParetoResult pareto_over(const Analysis& analysis, const std::vector<std::string>& ids,
                         const std::vector<std::string>& objectives,
                         const std::vector<std::string>& plotted) {
  ParetoResult result = pareto_core(analysis, ids, objectives);
  result.fronts_2d = fronts_2d(analysis, ids, plotted);
  return result;
}

std::vector<Recommendation> recommend(const Analysis& analysis, const Group& group,
                                      double accuracy_guard) {
  Candidates all = guarded(analysis, group, -HUGE_VAL);
  all.note.clear();
  Candidates kept = guarded(analysis, group, accuracy_guard);
  return {best_by("accuracy-critical", all, {"slmq_perf", "accuracy"}),
          best_by("latency-critical", kept, {"tokens_per_s", "latency_ms", "gmacs"}),
          best_by("memory-constrained", kept, {"peak_memory_mib", "model_size_mib"}),
          best_by("energy-constrained", kept, {"energy_j"}), balanced(kept)};
}

}  // namespace slmq::report
