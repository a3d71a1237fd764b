#include "slmq/profile/sample_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace slmq {

double percentile_sorted(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

SampleStats summarize(std::vector<double> samples) {
  SampleStats s;
  s.n = static_cast<int64_t>(samples.size());
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;
    for (double v : samples) ss += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = percentile_sorted(samples, 0.50);
  s.p95 = percentile_sorted(samples, 0.95);
  s.p99 = percentile_sorted(samples, 0.99);
  return s;
}

nlohmann::json SampleStats::to_json() const {
  if (n == 0) return nullptr;
  return {{"n", n},     {"mean", mean}, {"stddev", stddev}, {"min", min},
          {"max", max}, {"p50", p50},   {"p95", p95},       {"p99", p99}};
}

}  // namespace slmq
