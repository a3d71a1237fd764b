#include "slmq/eval/metrics.h"

#include <cmath>

#include "slmq/core/error.h"
#include "slmq/data/py_text.h"

namespace slmq::eval {
namespace {

double py_sum(const std::vector<double>& values) {
  double s = 0.0;
  for (double v : values) s += v;
  return s;
}

}  // namespace

double mean(const std::vector<double>& values) {
  if (values.empty()) throw InternalError("mean of an empty list");
  return py_sum(values) / static_cast<double>(values.size());
}

std::optional<double> mean_stderr(const std::vector<double>& values) {
  if (values.size() < 2) return std::nullopt;
  const double mu = mean(values);
  double ss = 0.0;
  for (double v : values) ss += (v - mu) * (v - mu);
  const double n = static_cast<double>(values.size());
  return std::sqrt(ss / (n - 1.0)) / std::sqrt(n);
}

double weighted_mean(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty())
    throw InternalError("weighted_mean: mismatched or empty lists");
  return py_sum(a) / py_sum(b);
}

double aggregate_subtask_metrics(const std::vector<double>& metrics,
                                 const std::vector<size_t>& sizes) {
  if (metrics.size() != sizes.size() || metrics.empty())
    throw InternalError("aggregate_subtask_metrics: bad input");
  double num = 0.0;
  size_t den = 0;
  for (size_t i = 0; i < metrics.size(); ++i) {
    num += metrics[i] * static_cast<double>(sizes[i]);
    den += sizes[i];
  }
  return num / static_cast<double>(den);
}

double pooled_sample_stderr(const std::vector<double>& stderrs, const std::vector<size_t>& sizes) {
  if (stderrs.size() != sizes.size() || stderrs.empty())
    throw InternalError("pooled_sample_stderr: bad input");
  double num = 0.0;
  size_t total = 0;
  for (size_t i = 0; i < stderrs.size(); ++i) {
    const double n = static_cast<double>(sizes[i]);
    num += (n - 1.0) * stderrs[i] * stderrs[i] * n;
    total += sizes[i];
  }
  const double pooled_var = num / static_cast<double>(total - sizes.size());
  return std::sqrt(pooled_var / static_cast<double>(total));
}

size_t np_argmax(const std::vector<double>& values) {
  if (values.empty()) throw InternalError("argmax of an empty list");
  size_t best = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) return i;
    if (values[i] > values[best]) best = i;
  }
  return best;
}

ChoiceScore score_choices(const std::vector<double>& loglikelihoods,
                          const std::vector<std::string>& choices, long gold) {
  if (loglikelihoods.size() != choices.size())
    throw InternalError("score_choices: one loglikelihood per choice");
  std::vector<double> normalized(choices.size());
  for (size_t i = 0; i < choices.size(); ++i) {
    normalized[i] = loglikelihoods[i] / static_cast<double>(data::py_len(choices[i]));
  }
  ChoiceScore s;
  s.pred = np_argmax(loglikelihoods);
  s.pred_norm = np_argmax(normalized);
  // An out-of-range gold becomes -100 in lm-eval and never matches.
  const bool valid = gold >= 0 && static_cast<size_t>(gold) < choices.size();
  s.acc = valid && s.pred == static_cast<size_t>(gold) ? 1.0 : 0.0;
  s.acc_norm = valid && s.pred_norm == static_cast<size_t>(gold) ? 1.0 : 0.0;
  return s;
}

}  // namespace slmq::eval
