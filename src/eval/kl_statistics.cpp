#include "slmq/eval/kl_statistics.h"

#include <algorithm>
#include <cmath>

#include "slmq/core/error.h"

namespace slmq::eval {
namespace {

ValueWithUncertainty mean_and_uncertainty(double sum, double sum2, int64_t count) {
  if (count < 1) return {};
  const double n = static_cast<double>(count);
  const double f = sum / n;
  const double var = sum2 / n - f * f;
  return {f, var > 0 && count > 10 ? std::sqrt(var / (n - 1)) : 0.0};
}

nlohmann::json vu(const ValueWithUncertainty& v) {
  return {{"value", v.value}, {"uncertainty", v.uncertainty}};
}

}  // namespace

double linear_percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) throw InternalError("linear_percentile: no values");
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  const double p = fraction * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(p);
  const double t = p - static_cast<double>(i);
  return (1 - t) * sorted[i] + t * sorted[std::min(i + 1, sorted.size() - 1)];
}

void KlAccumulator::add(double kl, double nll_test, double nll_base, bool same_top) {
  kl_.push_back(kl);
  sum_kl_ += kl;
  sum_kl2_ += kl * kl;
  sum_nll_ += nll_test;
  sum_nll2_ += nll_test * nll_test;
  sum_nll_base_ += nll_base;
  sum_nll_base2_ += nll_base * nll_base;
  sum_nll_nll_base_ += nll_test * nll_base;
  const double p_diff = std::exp(-nll_test) - std::exp(-nll_base);
  sum_p_diff_ += p_diff;
  sum_p_diff2_ += p_diff * p_diff;
  sum_p_diff4_ += p_diff * p_diff * p_diff * p_diff;
  same_top_ += same_top ? 1 : 0;
}

KlStatistics KlAccumulator::summarize() const {
  KlStatistics s;
  s.count = static_cast<int64_t>(kl_.size());
  if (s.count == 0) return s;
  const double n = static_cast<double>(s.count);
  s.kl_values = kl_;
  s.kl_mean = mean_and_uncertainty(sum_kl_, sum_kl2_, s.count);
  std::vector<double> sorted = kl_;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;
  s.kl_median = sorted.size() % 2 == 0 ? 0.5 * (sorted[mid - 1] + sorted[mid]) : sorted[mid];
  s.kl_min = sorted.front();
  s.kl_max = sorted.back();
  for (const auto& [name, fraction] : std::vector<std::pair<std::string, double>>{{"p1", 0.01},
                                                                                  {"p5", 0.05},
                                                                                  {"p10", 0.10},
                                                                                  {"p90", 0.90},
                                                                                  {"p95", 0.95},
                                                                                  {"p99", 0.99},
                                                                                  {"p99.9", 0.999}})
    s.kl_percentiles[name] = linear_percentile(sorted, fraction);

  s.same_top = same_top_;
  const double p = static_cast<double>(same_top_) / n;
  s.same_top_fraction = {p, s.count > 1 ? std::sqrt(p * (1 - p) / (n - 1)) : 0.0};

  const auto log_ppl = mean_and_uncertainty(sum_nll_, sum_nll2_, s.count);
  const auto log_ppl_base = mean_and_uncertainty(sum_nll_base_, sum_nll_base2_, s.count);
  const double cov =
      s.count < 10 ? 0.0 : (sum_nll_nll_base_ / n - (sum_nll_ / n) * (sum_nll_base_ / n)) / (n - 1);
  s.ppl_test = {std::exp(log_ppl.value), std::exp(log_ppl.value) * log_ppl.uncertainty};
  s.ppl_base = {std::exp(log_ppl_base.value),
                std::exp(log_ppl_base.value) * log_ppl_base.uncertainty};
  const double denom = log_ppl.uncertainty * log_ppl_base.uncertainty;
  s.ln_ppl_correlation = denom > 0 ? cov / denom : 0.0;
  const double ratio_var = log_ppl.uncertainty * log_ppl.uncertainty +
                           log_ppl_base.uncertainty * log_ppl_base.uncertainty - 2 * cov;
  s.ln_ppl_ratio = {log_ppl.value - log_ppl_base.value, std::sqrt(std::max(ratio_var, 0.0))};
  const double ratio = std::exp(s.ln_ppl_ratio.value);
  s.ppl_ratio = {ratio, ratio * s.ln_ppl_ratio.uncertainty};
  const double ppl_cov = s.ppl_test.value * s.ppl_base.value * cov;
  const double diff_var = s.ppl_test.uncertainty * s.ppl_test.uncertainty +
                          s.ppl_base.uncertainty * s.ppl_base.uncertainty - 2 * ppl_cov;
  s.ppl_diff = {s.ppl_test.value - s.ppl_base.value, std::sqrt(std::max(diff_var, 0.0))};

  s.p_diff_mean = mean_and_uncertainty(sum_p_diff_, sum_p_diff2_, s.count);
  const auto mse = mean_and_uncertainty(sum_p_diff2_, sum_p_diff4_, s.count);
  const double rms = std::sqrt(mse.value);
  s.p_diff_rms = {rms, rms > 0 ? 0.5 / rms * mse.uncertainty : 0.0};
  return s;
}

nlohmann::json KlStatistics::to_json() const {
  return {{"count", count},
          {"kl_mean", vu(kl_mean)},
          {"kl_median", kl_median},
          {"kl_min", kl_min},
          {"kl_max", kl_max},
          {"kl_percentiles", kl_percentiles},
          {"same_top", same_top},
          {"same_top_fraction", vu(same_top_fraction)},
          {"ppl_test", vu(ppl_test)},
          {"ppl_base", vu(ppl_base)},
          {"ln_ppl_ratio", vu(ln_ppl_ratio)},
          {"ppl_ratio", vu(ppl_ratio)},
          {"ppl_diff", vu(ppl_diff)},
          {"ln_ppl_correlation", ln_ppl_correlation},
          {"p_diff_mean", vu(p_diff_mean)},
          {"p_diff_rms", vu(p_diff_rms)}};
}

}  // namespace slmq::eval
