// The SLMQuant scores and SLiM-Eval relative metrics against the papers' own tables, on result
// files rebuilt from them by scripts/reference/gen_paper_fixtures.py.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "slmq/report/analysis.h"
#include "support/temp_dir.h"

namespace slmq::report {
namespace {

nlohmann::json expected() {
  std::ifstream in(test::reference_dir("paper_fixtures") / "expected.json");
  return nlohmann::json::parse(in);
}

Analysis analyze_dir(const std::string& sub) {
  std::vector<InputFile> files;
  auto records = load_results({test::reference_dir("paper_fixtures") / sub}, &files);
  for (const auto& f : files) EXPECT_EQ(f.status, "used") << f.path << ": " << f.reason;
  return analyze(std::move(records), {});
}

const RunSummary& run(const Analysis& a, const std::string& id) {
  const RunSummary* r = find_run(a, id);
  if (!r) throw std::runtime_error("no run " + id);
  return *r;
}

class SlmQuantTables : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { analysis_ = new Analysis(analyze_dir("slmquant")); }
  static void TearDownTestSuite() { delete analysis_; }
  static Analysis* analysis_;
};
Analysis* SlmQuantTables::analysis_ = nullptr;

TEST_F(SlmQuantTables, GroupsAndBaselines) {
  ASSERT_EQ(analysis_->groups.size(), 2u);
  for (const auto& g : analysis_->groups) {
    EXPECT_EQ(g.baseline_id, g.model + " FP16");
    EXPECT_EQ(g.run_ids.size(), 7u) << g.model;
  }
}

// Tables 1-2: within 0.02 of the printed score (the paper's tolerance from the issue), and within
// 1e-9 of the formula evaluated in Python, for every row but the one the paper misprints.
TEST_F(SlmQuantTables, PerfReproducesTables1And2) {
  auto e = expected();
  const double tol = e["tolerance"]["slmq_perf"];
  const auto& not_reproduced = e["not_reproduced"]["slmq_perf"];
  for (auto& [id, published] : e["slmq_perf"].items()) {
    const RunSummary& r = run(*analysis_, id);
    ASSERT_TRUE(r.slmq_perf) << id;
    EXPECT_EQ(r.slmq_perf->tasks.size(), 6u) << id;
    EXPECT_NEAR(r.slmq_perf->value, e["slmq_perf_formula"][id].get<double>(), 1e-9) << id;
    if (not_reproduced.contains(id)) {
      // Documented: Qwen2.5-0.5B SpinQuant W8A8 gives 100.35 by the formula; the paper prints
      // 100.0.
      EXPECT_GT(std::abs(r.slmq_perf->value - published.get<double>()), tol)
          << id << " now reproduces";
      continue;
    }
    EXPECT_NEAR(r.slmq_perf->value, published.get<double>(), tol) << id;
  }
}

// Table 3: within 0.1 (inputs printed rounded), with the MAC ratio as throughput term.
TEST_F(SlmQuantTables, InferReproducesTable3WithMacRatio) {
  auto e = expected();
  for (auto& [id, published] : e["slmq_infer_macs"].items()) {
    const RunSummary& r = run(*analysis_, id);
    ASSERT_TRUE(r.slmq_infer_macs) << id;
    EXPECT_NEAR(*r.slmq_infer_macs, published.get<double>(),
                e["tolerance"]["slmq_infer_macs"].get<double>())
        << id;
    EXPECT_FALSE(r.slmq_infer_tps) << id << ": the paper's tables have no tokens/s";
  }
}

// Table 4: maxima per model over the methods compared there (the W8A8 rows).
TEST_F(SlmQuantTables, QuantReproducesTable4) {
  auto e = expected();
  for (auto& [id, published] : e["slmq_quant"].items()) {
    const RunSummary& r = run(*analysis_, id);
    ASSERT_TRUE(r.slmq_quant) << id;
    EXPECT_NEAR(*r.slmq_quant, published.get<double>(), e["tolerance"]["slmq_quant"].get<double>())
        << id;
  }
  EXPECT_FALSE(run(*analysis_, "SmolLM-135M SpinQuant W4A8").slmq_quant)
      << "no cost measured for W4A8";
}

class SlimEvalTables : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { analysis_ = new Analysis(analyze_dir("slim_eval")); }
  static void TearDownTestSuite() { delete analysis_; }
  static Analysis* analysis_;
};
Analysis* SlimEvalTables::analysis_ = nullptr;

std::optional<double> metric(const RunSummary& r, const std::string& name) {
  const auto& rel = *r.relative;
  if (name == "latency_ratio") return rel.latency_ratio;
  if (name == "speedup") return rel.speedup;
  if (name == "energy_reduction_pct") return rel.energy_reduction_pct;
  if (name == "memory_change_pct") return rel.memory_change_pct;
  const std::string prefix = "accuracy_change_pct.";
  auto it = rel.accuracy_change_pct.find(name.substr(prefix.size()));
  return it == rel.accuracy_change_pct.end() ? std::nullopt : std::optional<double>(it->second);
}

// Table III from Table V: every cell the generator found reproducible must be within the
// tolerance implied by Table V's rounding; every cell it found irreproducible must stay outside it
// (so the documented list in docs/scores.md cannot silently go stale).
TEST_F(SlimEvalTables, TableIIIFromTableV) {
  auto e = expected();
  int reproduced = 0;
  for (auto& [id, cells] : e["slim_eval_table_iii"].items()) {
    const RunSummary& r = run(*analysis_, id);
    ASSERT_TRUE(r.relative) << id;
    for (auto& [name, cell] : cells.items()) {
      auto ours = metric(r, name);
      if (name == "memory_change_pct") {
        EXPECT_FALSE(ours) << id << ": Table V has no memory; nothing may be invented";
        continue;
      }
      ASSERT_TRUE(ours) << id << " " << name;
      EXPECT_NEAR(*ours, cell["from_table_v"].get<double>(), 1e-9) << id << " " << name;
      double miss = std::abs(*ours - cell["published"].get<double>());
      if (cell["reproducible"].get<bool>()) {
        EXPECT_LE(miss, cell["tolerance"].get<double>()) << id << " " << name;
        ++reproduced;
      } else {
        EXPECT_GT(miss, cell["tolerance"].get<double>()) << id << " " << name;
      }
    }
  }
  EXPECT_GE(reproduced, 8 * 5) << "latency ratio, energy and three accuracy drops for all 8 rows";
}

TEST_F(SlimEvalTables, AverageAccuracyMatchesTableV) {
  for (auto& [id, avg] : expected()["slim_eval_avg_acc"].items()) {
    const RunSummary& r = run(*analysis_, id);
    ASSERT_TRUE(r.mean_accuracy) << id;
    EXPECT_NEAR(*r.mean_accuracy, avg.get<double>(), 0.0005 + 1e-12) << id << ": printed to 0.001";
  }
}

TEST_F(SlimEvalTables, FlagsSlowerRunsAndGroupWithoutQuantizedRuns) {
  const RunSummary& qwen = run(*analysis_, "Qwen2.5-3B INT8");
  bool slower = false;
  for (const auto& f : qwen.flags) slower |= f.rfind("slower than baseline", 0) == 0;
  EXPECT_TRUE(slower) << "812 tokens/s against 1186 for FP16";
  const RunSummary& mistral = run(*analysis_, "Mistral-7B INT4");
  for (const auto& f : mistral.flags) EXPECT_NE(f.rfind("slower", 0), 0u) << f;
  for (const auto& g : analysis_->groups) {
    EXPECT_EQ(g.run_ids.size(), g.model == "Gemma-3-4B" ? 1u : 3u) << g.model;
    EXPECT_EQ(g.baseline_id, g.model + " FP16");
  }
}

}  // namespace
}  // namespace slmq::report
