#include "slmq/score/stats.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "slmq/core/error.h"

namespace slmq::score {
namespace {

// numpy.quantile(method="linear") on sorted data.
double sorted_quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double log_binomial_pmf_half(std::int64_t k, std::int64_t m) {
  return std::lgamma(static_cast<double>(m) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(m - k) + 1) - static_cast<double>(m) * std::log(2.0);
}

}  // namespace

double proportion_stderr(double p, std::int64_t n) {
  if (n < 2) throw InternalError("proportion_stderr: need n >= 2");
  return std::sqrt(p * (1 - p) / static_cast<double>(n - 1));
}

double mean_stderr(const std::vector<double>& values) {
  if (values.size() < 2) throw InternalError("mean_stderr: need at least 2 values");
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  double n = static_cast<double>(values.size());
  return std::sqrt(ss / (n - 1)) / std::sqrt(n);
}

double mcnemar_exact_p(std::int64_t b, std::int64_t c) {
  std::int64_t m = b + c;
  if (m == 0) return 1.0;
  std::int64_t k_max = std::min(b, c);
  // log-sum-exp over the lower tail keeps large discordant counts finite.
  std::vector<double> logs;
  for (std::int64_t k = 0; k <= k_max; ++k) logs.push_back(log_binomial_pmf_half(k, m));
  double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (double l : logs) sum += std::exp(l - top);
  return std::min(1.0, 2.0 * std::exp(top + std::log(sum)));
}

BootstrapCi paired_bootstrap_ci(const std::vector<std::int8_t>& base,
                                const std::vector<std::int8_t>& quant, int resamples,
                                std::uint64_t seed, double confidence) {
  if (base.size() != quant.size() || base.empty()) {
    throw InternalError("paired_bootstrap_ci: runs must have the same non-zero number of items");
  }
  if (resamples < 2 || confidence <= 0 || confidence >= 1) {
    throw InternalError("paired_bootstrap_ci: need resamples >= 2 and confidence in (0, 1)");
  }
  std::vector<int> diff(base.size());
  for (std::size_t i = 0; i < base.size(); ++i) diff[i] = quant[i] - base[i];
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, diff.size() - 1);
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (double& mean : means) {
    long long sum = 0;
    for (std::size_t i = 0; i < diff.size(); ++i) sum += diff[pick(rng)];
    mean = static_cast<double>(sum) / static_cast<double>(diff.size());
  }
  std::sort(means.begin(), means.end());
  double tail = (1 - confidence) / 2;
  return {sorted_quantile(means, tail), sorted_quantile(means, 1 - tail)};
}

PairedComparison compare_paired(const std::vector<std::int8_t>& base,
                                const std::vector<std::int8_t>& quant,
                                const ComparisonOptions& options) {
  PairedComparison out;
  BootstrapCi ci =
      paired_bootstrap_ci(base, quant, options.resamples, options.seed, 1 - options.alpha);
  out.paired = true;
  out.n = static_cast<std::int64_t>(base.size());
  long long sum = 0;
  for (std::size_t i = 0; i < base.size(); ++i) {
    sum += quant[i] - base[i];
    if (base[i] && !quant[i]) ++out.base_only;
    if (!base[i] && quant[i]) ++out.quant_only;
  }
  out.diff = static_cast<double>(sum) / static_cast<double>(base.size());
  out.ci_low = ci.low;
  out.ci_high = ci.high;
  out.p_value = mcnemar_exact_p(out.base_only, out.quant_only);
  out.significant = out.p_value < options.alpha && (ci.low > 0 || ci.high < 0);
  out.method = "paired bootstrap + McNemar exact";
  return out;
}

PairedComparison compare_unpaired(double base, double base_se, double quant, double quant_se,
                                  std::int64_t n, const ComparisonOptions& options) {
  PairedComparison out;
  out.n = n;
  out.diff = quant - base;
  double se = std::sqrt(base_se * base_se + quant_se * quant_se);
  double z = normal_quantile(1 - options.alpha / 2);
  out.ci_low = out.diff - z * se;
  out.ci_high = out.diff + z * se;
  out.p_value =
      se > 0 ? std::erfc(std::abs(out.diff) / se / std::sqrt(2.0)) : (out.diff == 0 ? 1.0 : 0.0);
  out.significant = out.p_value < options.alpha;
  out.method = "unpaired normal approximation";
  return out;
}

double normal_quantile(double p) {
  if (p <= 0 || p >= 1) throw InternalError("normal_quantile: p must be in (0, 1)");
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double q;
  double x;
  if (p < 0.02425) {
    q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    q = p - 0.5;
    double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One Newton step on the exact CDF brings the approximation to machine precision.
  double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace slmq::score
