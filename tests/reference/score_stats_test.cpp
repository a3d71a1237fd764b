// Statistics and Pareto sets against numpy and exact integer arithmetic
// (scripts/reference/gen_score_stats.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "slmq/core/error.h"
#include "slmq/score/pareto.h"
#include "slmq/score/stats.h"
#include "support/temp_dir.h"

namespace slmq::score {
namespace {

nlohmann::json cases() {
  std::ifstream in(test::reference_dir("score_stats") / "cases.json");
  return nlohmann::json::parse(in);
}

std::vector<std::int8_t> bits(const nlohmann::json& j) {
  std::vector<std::int8_t> out;
  for (int v : j) out.push_back(static_cast<std::int8_t>(v));
  return out;
}

TEST(ScoreStats, StderrMatchesNumpy) {
  for (const auto& c : cases()["paired"]) {
    auto base = bits(c["base"]);
    std::vector<double> values(base.begin(), base.end());
    // Both are closed forms of the same quantity: agreement to rounding.
    EXPECT_NEAR(mean_stderr(values), c["stderr_base"].get<double>(), 1e-12);
    double p = 0;
    for (double v : values) p += v;
    p /= static_cast<double>(values.size());
    EXPECT_NEAR(proportion_stderr(p, static_cast<std::int64_t>(values.size())),
                c["stderr_base"].get<double>(), 1e-12);
  }
  EXPECT_THROW(proportion_stderr(0.5, 1), InternalError);
}

TEST(ScoreStats, McNemarMatchesExactBinomialTail) {
  for (const auto& c : cases()["paired"]) {
    EXPECT_NEAR(mcnemar_exact_p(c["b"], c["c"]), c["mcnemar_p"].get<double>(), 1e-10)
        << c["b"] << "/" << c["c"];
  }
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
}

// Our CI draws 10,000 index resamples; numpy's drew 1,000,000 multinomial ones. Monte Carlo error
// of a 2.5 % quantile at B = 10,000 is about 0.03 bootstrap SEs, and the means live on a 1/n
// lattice, so the tolerance is 0.1 SE plus one lattice step.
TEST(ScoreStats, PairedBootstrapMatchesNumpy) {
  for (const auto& c : cases()["paired"]) {
    auto base = bits(c["base"]);
    auto quant = bits(c["quant"]);
    double tol = 0.1 * c["boot_se"].get<double>() + 1.0 / static_cast<double>(base.size());
    BootstrapCi ci = paired_bootstrap_ci(base, quant, 10000, 7, 0.95);
    EXPECT_NEAR(ci.low, c["ci_low"].get<double>(), tol);
    EXPECT_NEAR(ci.high, c["ci_high"].get<double>(), tol);
    PairedComparison cmp = compare_paired(base, quant, {10000, 7, 0.05});
    EXPECT_NEAR(cmp.diff, c["diff"].get<double>(), 1e-12);
    EXPECT_EQ(cmp.base_only, c["b"].get<std::int64_t>());
    EXPECT_EQ(cmp.quant_only, c["c"].get<std::int64_t>());
    bool reference_significant = c["mcnemar_p"].get<double>() < 0.05 &&
                                 (c["ci_low"].get<double>() > 0 || c["ci_high"].get<double>() < 0);
    EXPECT_EQ(cmp.significant, reference_significant) << "b=" << c["b"] << " c=" << c["c"];
  }
}

TEST(ScoreStats, BootstrapIsDeterministicForASeed) {
  auto c = cases()["paired"][0];
  auto a = paired_bootstrap_ci(bits(c["base"]), bits(c["quant"]), 500, 11, 0.95);
  auto b = paired_bootstrap_ci(bits(c["base"]), bits(c["quant"]), 500, 11, 0.95);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_THROW(paired_bootstrap_ci({1, 0}, {1}, 10, 1, 0.95), InternalError);
}

TEST(ScoreStats, NormalQuantileAgainstErfc) {
  // Round trip through the exact CDF, 0.5 erfc(-x / sqrt 2).
  for (double p : {1e-6, 0.01, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999}) {
    double x = normal_quantile(p);
    EXPECT_NEAR(0.5 * std::erfc(-x / std::sqrt(2.0)), p, 1e-12 + 1e-9 * p);
  }
}

TEST(ScoreStats, UnpairedFallbackIsATwoSidedZTest) {
  // diff 0.02 with se sqrt(0.01^2 + 0.01^2): z = 1.414..., p = erfc(z / sqrt 2) = erfc(1).
  PairedComparison c = compare_unpaired(0.50, 0.01, 0.52, 0.01, 1000, {});
  EXPECT_NEAR(c.p_value, std::erfc(1.0), 1e-12);
  EXPECT_FALSE(c.significant);
  EXPECT_FALSE(c.paired);
}

TEST(Pareto, MatchesBruteForceNumpy) {
  for (const auto& c : cases()["pareto"]) {
    std::vector<std::vector<double>> points = c["points"];
    std::vector<Direction> dirs;
    for (const auto& d : c["directions"])
      dirs.push_back(d == "max" ? Direction::kMaximize : Direction::kMinimize);
    auto front = pareto_set(points, dirs);
    EXPECT_EQ(front, c["front"].get<std::vector<std::size_t>>());
  }
}

TEST(Pareto, EqualPointsAreAllKept) {
  std::vector<std::vector<double>> points = {{1, 1}, {1, 1}, {0, 2}};
  auto front = pareto_set(points, {Direction::kMaximize, Direction::kMinimize});
  EXPECT_EQ(front, (std::vector<std::size_t>{0, 1}));
}

}  // namespace
}  // namespace slmq::score
