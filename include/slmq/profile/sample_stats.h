#pragma once
// Summary of repeated measurements: mean and sample standard deviation (llama-bench's
// avg ± stddev) and percentiles from the samples themselves.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace slmq {

struct SampleStats {
  int64_t n = 0;
  double mean = 0;
  double stddev = 0;  // sample standard deviation (n − 1); 0 for n < 2
  double min = 0, max = 0;
  double p50 = 0, p95 = 0, p99 = 0;  // linear interpolation between order statistics (numpy's)

  // {"n", "mean", "stddev", "min", "max", "p50", "p95", "p99"}; null for n == 0.
  nlohmann::json to_json() const;
};

// n = 0 (all fields 0) for no samples.
SampleStats summarize(std::vector<double> samples);
// q in [0, 1] over sorted samples (non-empty), numpy.percentile's default "linear".
double percentile_sorted(const std::vector<double>& sorted, double q);

}  // namespace slmq
