#pragma once
// The statistics llama.cpp's `llama-perplexity --kl-divergence` prints (tools/perplexity,
// kl_divergence()), accumulated position by position:
//  * mean +- uncertainty (standard error of the mean): f = sum/n,
//    df = sqrt((sum2/n - f^2) / (n-1)) when positive and n > 10, else 0;
//  * PPL(Q), PPL(base) = exp(mean NLL) +- ppl * df; ln(PPL(Q)/PPL(base)) with the covariance
//    cov = (sum(ab)/n - mean(a) mean(b)) / (n-1) of the two NLLs; their correlation cov/(df_a
//    df_b); PPL ratio and difference with propagated uncertainties;
//  * KL median (mean of the two middle values for even n) and percentiles by linear interpolation
//    at fraction*(n-1) (numpy.percentile's default), min and max;
//  * "Same top p": the fraction of positions whose argmax agrees, +- sqrt(p(1-p)/(n-1));
//  * Delta p = p_test(token) - p_base(token): mean and RMS.
// KL values are kept (one double per position) for the percentiles; nothing else is stored.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace slmq::eval {

struct ValueWithUncertainty {
  double value = 0;
  double uncertainty = 0;
};

struct KlStatistics {
  int64_t count = 0;
  ValueWithUncertainty kl_mean;
  double kl_median = 0, kl_min = 0, kl_max = 0;
  std::map<std::string, double> kl_percentiles;  // "p1" .. "p99.9"
  int64_t same_top = 0;
  ValueWithUncertainty same_top_fraction;
  ValueWithUncertainty ppl_test, ppl_base, ln_ppl_ratio, ppl_ratio, ppl_diff;
  double ln_ppl_correlation = 0;
  ValueWithUncertainty p_diff_mean;
  ValueWithUncertainty p_diff_rms;
  std::vector<double> kl_values;  // in scoring order

  nlohmann::json to_json() const;  // everything but kl_values
};

// numpy.percentile(sorted, 100*fraction) with the default linear method; `sorted` ascending,
// non-empty.
double linear_percentile(const std::vector<double>& sorted, double fraction);

class KlAccumulator {
 public:
  // One scored position: KL(P_base || P_test), both NLLs of the actual next token, and whether
  // the two argmax tokens agree.
  void add(double kl, double nll_test, double nll_base, bool same_top);
  KlStatistics summarize() const;

 private:
  std::vector<double> kl_;
  double sum_kl_ = 0, sum_kl2_ = 0;
  double sum_nll_ = 0, sum_nll2_ = 0, sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
  double sum_p_diff_ = 0, sum_p_diff2_ = 0, sum_p_diff4_ = 0;
  int64_t same_top_ = 0;
};

}  // namespace slmq::eval
