#pragma once
// Spread and significance for accuracy comparisons. All functions are deterministic: the bootstrap
// uses a seeded std::mt19937_64, so a report is reproducible byte for byte.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slmq::score {

// lm-eval's stderr of a mean of 0/1 scores: sample standard deviation (n - 1) over sqrt(n),
// which for a proportion p is sqrt(p (1 - p) / (n - 1)). Throws InternalError for n < 2.
double proportion_stderr(double p, std::int64_t n);

// Same formula over per-item scores (any real values). Throws InternalError for fewer than 2.
double mean_stderr(const std::vector<double>& values);

// Exact two-sided McNemar test: P-value of a two-sided binomial test of b successes in b + c
// trials at p = 1/2, i.e. min(1, 2 P(X <= min(b, c))). 1 when b + c == 0.
double mcnemar_exact_p(std::int64_t b, std::int64_t c);

struct BootstrapCi {
  double low = 0;
  double high = 0;
};

// Percentile bootstrap CI of mean(quant - base) over paired items: `resamples` draws of n items
// with replacement, quantiles with linear interpolation (numpy's default). `confidence` in (0, 1).
BootstrapCi paired_bootstrap_ci(const std::vector<std::int8_t>& base,
                                const std::vector<std::int8_t>& quant, int resamples,
                                std::uint64_t seed, double confidence = 0.95);

struct PairedComparison {
  bool paired = false;  // false: per-item data missing, normal approximation from stderrs
  std::int64_t n = 0;   // paired items (or n of the quantized run when unpaired)
  double diff = 0;      // A_quant - A_base, as fractions
  double ci_low = 0;    // confidence interval of diff
  double ci_high = 0;
  std::int64_t base_only = 0;   // b: items the baseline got right and the quantized run wrong
  std::int64_t quant_only = 0;  // c: the reverse
  double p_value = 1;           // McNemar exact (paired) or two-sided z-test (unpaired)
  bool significant = false;     // p < alpha and the CI excludes 0
  std::string method;  // "paired bootstrap + McNemar exact" | "unpaired normal approximation"
};

struct ComparisonOptions {
  int resamples = 2000;
  std::uint64_t seed = 20251122;
  double alpha = 0.05;
};

// Paired comparison of two runs over the same items, aligned by index (the caller aligns doc_ids
// first). Throws InternalError when the vectors differ in length or are empty.
PairedComparison compare_paired(const std::vector<std::int8_t>& base,
                                const std::vector<std::int8_t>& quant,
                                const ComparisonOptions& options);

// Fallback without per-item data: diff +- z * sqrt(se_b^2 + se_q^2), which ignores the (positive)
// correlation of paired runs and so is conservative.
PairedComparison compare_unpaired(double base, double base_se, double quant, double quant_se,
                                  std::int64_t n, const ComparisonOptions& options);

// Standard normal quantile (Acklam's rational approximation refined by one Newton step).
double normal_quantile(double p);

}  // namespace slmq::score
