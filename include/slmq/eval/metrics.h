#pragma once
// lm-eval's metric arithmetic (lm_eval/api/metrics.py and the multiple-choice process_results),
// in float64, summing left to right like Python's sum() (CPython <= 3.11).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace slmq::eval {

// sum(values) / len(values); throws InternalError on an empty list.
double mean(const std::vector<double>& values);
// sample_stddev(values) / sqrt(n); nullopt for n < 2 (lm-eval reports "N/A").
std::optional<double> mean_stderr(const std::vector<double>& values);
// sum(a) / sum(b) over (a, b) pairs: weighted_mean.
double weighted_mean(const std::vector<double>& a, const std::vector<double>& b);
// Group aggregation with weight_by_size: sum(metric_t * n_t) / sum(n_t).
double aggregate_subtask_metrics(const std::vector<double>& metrics,
                                 const std::vector<size_t>& sizes);
// Pooled stderr of a size-weighted group (lm-eval pooled_sample_stderr).
double pooled_sample_stderr(const std::vector<double>& stderrs, const std::vector<size_t>& sizes);
// numpy.argmax: the first maximum; a NaN counts as the maximum (first NaN wins).
size_t np_argmax(const std::vector<double>& values);

// One multiple-choice decision as lm-eval makes it.
struct ChoiceScore {
  size_t pred = 0;       // argmax of loglikelihoods
  size_t pred_norm = 0;  // argmax of loglikelihood / code-point length of the choice
  double acc = 0.0;
  double acc_norm = 0.0;
};
ChoiceScore score_choices(const std::vector<double>& loglikelihoods,
                          const std::vector<std::string>& choices, long gold);

// One reported metric, keyed like lm-eval ("acc" + filter "none" -> "acc,none").
struct MetricValue {
  std::string name;
  std::string filter = "none";
  double value = 0.0;
  std::optional<double> stderr;  // nullopt: lm-eval's "N/A"
  std::string key() const { return name + "," + filter; }
  std::string stderr_key() const { return name + "_stderr," + filter; }
};

}  // namespace slmq::eval
