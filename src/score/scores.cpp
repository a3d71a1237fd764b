#include "slmq/score/scores.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "slmq/core/error.h"

namespace slmq::score {
namespace {

std::optional<double> ratio(const std::optional<double>& num, const std::optional<double>& den) {
  if (!num || !den || *den <= 0) return std::nullopt;
  return *num / *den;
}

std::optional<double> change_pct(const std::optional<double>& now,
                                 const std::optional<double>& before) {
  auto r = ratio(now, before);
  if (!r) return std::nullopt;
  return 100.0 * (*r - 1.0);
}

}  // namespace

double root_mean_square_score(const std::vector<double>& ratios) {
  if (ratios.empty()) throw InternalError("root_mean_square_score: no ratios");
  double sum = 0;
  for (double r : ratios) sum += r * r;
  return 100.0 * std::sqrt(sum / static_cast<double>(ratios.size()));
}

bool comparable(const TaskResult& a, const TaskResult& b, std::string* why) {
  if (a.kind != b.kind) {
    if (why) *why = "one run reports an accuracy, the other a perplexity";
    return false;
  }
  if (a.metric != b.metric) {
    if (why) *why = fmt::format("metrics differ ({} vs {})", a.metric, b.metric);
    return false;
  }
  return true;
}

std::optional<PerfScore> slmq_perf(const RunRecord& run, const RunRecord& baseline) {
  PerfScore score;
  std::vector<double> ratios;
  for (const auto& [name, base] : baseline.tasks) {
    auto it = run.tasks.find(name);
    std::string why;
    if (it == run.tasks.end()) {
      score.skipped.push_back(name + ": not in the quantized run");
      continue;
    }
    const TaskResult& q = it->second;
    if (!comparable(q, base, &why)) {
      score.skipped.push_back(name + ": " + why);
      continue;
    }
    if (q.value <= 0 || base.value <= 0) {
      score.skipped.push_back(name + ": zero value, ratio undefined");
      continue;
    }
    double r = base.kind == TaskKind::kAccuracy ? q.value / base.value : base.value / q.value;
    score.ratios[name] = r;
    score.tasks.push_back(name);
    ratios.push_back(r);
  }
  for (const auto& [name, q] : run.tasks) {
    if (!baseline.tasks.count(name)) score.skipped.push_back(name + ": not in the baseline");
  }
  if (ratios.empty()) return std::nullopt;
  score.value = root_mean_square_score(ratios);
  return score;
}

std::optional<double> slmq_infer(const RunRecord& run, const RunRecord& baseline,
                                 InferThroughput term) {
  const Profile& q = run.profile;
  const Profile& b = baseline.profile;
  if (q.memory_kind != b.memory_kind) return std::nullopt;
  auto memory = ratio(b.peak_memory_mib, q.peak_memory_mib);
  auto size = ratio(b.model_size_mib, q.model_size_mib);
  auto speed = term == InferThroughput::kTokensPerS ? ratio(q.tokens_per_s, b.tokens_per_s)
                                                    : ratio(b.gmacs, q.gmacs);
  if (!memory || !size || !speed) return std::nullopt;
  return root_mean_square_score({*memory, *speed, *size});
}

std::vector<std::optional<double>> slmq_quant(const std::vector<const RunRecord*>& runs) {
  double t_max = 0;
  double m_max = 0;
  auto measured = [](const RunRecord* r) {
    return r->quant_cost.wall_time_s && r->quant_cost.peak_memory_mib &&
           *r->quant_cost.wall_time_s > 0 && *r->quant_cost.peak_memory_mib > 0;
  };
  for (const RunRecord* r : runs) {
    if (!measured(r)) continue;
    t_max = std::max(t_max, *r->quant_cost.wall_time_s);
    m_max = std::max(m_max, *r->quant_cost.peak_memory_mib);
  }
  std::vector<std::optional<double>> out;
  for (const RunRecord* r : runs) {
    if (!measured(r)) {
      out.push_back(std::nullopt);
      continue;
    }
    out.push_back(root_mean_square_score(
        {t_max / *r->quant_cost.wall_time_s, m_max / *r->quant_cost.peak_memory_mib}));
  }
  return out;
}

RelativeMetrics relative_metrics(const RunRecord& run, const RunRecord& baseline) {
  const Profile& q = run.profile;
  const Profile& b = baseline.profile;
  RelativeMetrics m;
  m.speedup = ratio(q.tokens_per_s, b.tokens_per_s);
  m.latency_ratio = ratio(b.latency_ms_p50, q.latency_ms_p50);
  if (q.memory_kind == b.memory_kind)
    m.memory_change_pct = change_pct(q.peak_memory_mib, b.peak_memory_mib);
  m.size_change_pct = change_pct(q.model_size_mib, b.model_size_mib);
  if (auto r = ratio(q.energy_j, b.energy_j)) m.energy_reduction_pct = 100.0 * (1.0 - *r);
  for (const auto& [name, base] : baseline.tasks) {
    auto it = run.tasks.find(name);
    if (it == run.tasks.end() || base.kind != TaskKind::kAccuracy || base.value <= 0) continue;
    if (!comparable(it->second, base, nullptr)) continue;
    m.accuracy_change_pct[name] = 100.0 * (it->second.value - base.value) / base.value;
  }
  return m;
}

}  // namespace slmq::score
