// Grouping, paired comparisons, flags and recommendations on small synthetic runs whose answers
// follow from their construction.
#include "slmq/report/analysis.h"

#include <gtest/gtest.h>

#include "slmq/core/error.h"
#include "slmq/report/report.h"
#include "support/temp_dir.h"

#include <fstream>

namespace slmq::report {
namespace {

using score::RunRecord;
using score::TaskKind;
using score::TaskResult;

TaskResult items(std::vector<std::int8_t> correct) {
  TaskResult t;
  t.metric = "acc";
  t.correct = std::move(correct);
  t.n = static_cast<std::int64_t>(t.correct.size());
  double sum = 0;
  for (auto c : t.correct) sum += c;
  t.value = sum / static_cast<double>(t.correct.size());
  return t;
}

RunRecord run(const std::string& method, int bits, std::vector<std::int8_t> correct, double tps,
              double mem) {
  RunRecord r;
  r.model.name = "Tiny";
  r.quant.method = method;
  r.quant.w_bits = r.quant.a_bits = bits;
  r.quant.label = method == "none" ? "FP16" : method;
  r.tasks["piqa"] = items(std::move(correct));
  r.profile.tokens_per_s = tps;
  r.profile.peak_memory_mib = mem;
  return r;
}

std::vector<std::int8_t> pattern(int n, int ones_every) {
  std::vector<std::int8_t> v(n);
  for (int i = 0; i < n; ++i) v[i] = i % ones_every != 0;
  return v;
}

Analysis sample() {
  std::vector<RunRecord> runs;
  auto base = pattern(400, 4);  // 75 % correct
  auto same = base;
  same[1] = 0;  // one item lost: not significant
  auto broken = std::vector<std::int8_t>(400, 0);
  for (int i = 0; i < 400; i += 3) broken[i] = 1;  // about 33 %: a real drop
  runs.push_back(run("slow", 8, same, 80, 500));   // baseline comes later in the input on purpose
  runs.push_back(run("none", 16, base, 100, 1000));
  runs.push_back(run("broken", 4, broken, 300, 200));
  runs.push_back(run("good", 8, same, 150, 600));
  return analyze(std::move(runs), {});
}

TEST(Analysis, FindsTheBaselineAndComparesPairedItems) {
  Analysis a = sample();
  ASSERT_EQ(a.groups.size(), 1u);
  EXPECT_EQ(a.groups[0].baseline_id, "Tiny FP16");
  EXPECT_EQ(a.runs[0].id, "Tiny FP16") << "baseline listed first";
  const RunSummary& good = *find_run(a, "Tiny good");
  ASSERT_TRUE(good.comparisons.count("piqa"));
  const auto& c = good.comparisons.at("piqa");
  EXPECT_TRUE(c.paired);
  EXPECT_EQ(c.base_only, 1);
  EXPECT_EQ(c.quant_only, 0);
  EXPECT_FALSE(c.significant);
  EXPECT_EQ(good.tasks.at("piqa").stderr_source, "per-item");
  const RunSummary& broken = *find_run(a, "Tiny broken");
  EXPECT_TRUE(broken.comparisons.at("piqa").significant);
  EXPECT_LT(broken.comparisons.at("piqa").ci_high, 0);
}

TEST(Analysis, FlagsSlowerAndNotSignificant) {
  Analysis a = sample();
  const RunSummary& slow = *find_run(a, "Tiny slow");
  auto has = [&](const std::string& prefix) {
    for (const auto& f : slow.flags) {
      if (f.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("slower than baseline (0.80x tokens/s)"));
  EXPECT_TRUE(has("not significant: piqa"));
  EXPECT_FALSE(has("more memory"));
}

TEST(Analysis, RecommendationsRespectTheAccuracyGuard) {
  Analysis a = sample();
  std::map<std::string, Recommendation> by;
  for (const auto& r : a.groups[0].recommendations) by[r.scenario] = r;
  // "broken" is fastest and smallest but keeps SLMQ_perf far below 95, so it is excluded.
  EXPECT_EQ(by["latency-critical"].run_id, "Tiny good") << by["latency-critical"].reason;
  EXPECT_EQ(by["memory-constrained"].run_id, "Tiny slow") << by["memory-constrained"].reason;
  EXPECT_EQ(by["energy-constrained"].run_id, "");
  EXPECT_EQ(by["balanced"].run_id, "Tiny good") << by["balanced"].reason;
  EXPECT_NE(by["latency-critical"].reason.find("among the 2 of 3 runs keeping SLMQ_perf >= 95"),
            std::string::npos)
      << by["latency-critical"].reason;
}

TEST(Analysis, ParetoOverChosenObjectives) {
  std::vector<RunRecord> runs = sample().records;
  AnalysisOptions opts;
  opts.objectives = {"accuracy", "tokens_per_s"};
  Analysis a = analyze(runs, opts);
  // FP16 is most accurate, broken fastest, good dominates slow (same accuracy, faster).
  EXPECT_EQ(a.pareto.front, (std::vector<std::string>{"Tiny FP16", "Tiny broken", "Tiny good"}));
  ASSERT_EQ(a.pareto.fronts_2d.size(), 1u);
  EXPECT_EQ(a.pareto.fronts_2d[0].front.size(), 3u);
  opts.objectives = {"accuracy", "speed"};
  EXPECT_THROW(analyze(runs, opts), ConfigError);
}

TEST(Analysis, DocIdsAlignItemsInDifferentOrders) {
  std::vector<RunRecord> runs = {run("none", 16, {1, 1, 0, 0}, 1, 1),
                                 run("q", 8, {0, 1, 1, 0}, 1, 1)};
  runs[0].tasks["piqa"].doc_ids = {10, 11, 12, 13};
  // q lists the same documents in another order: doc13=0, doc10=1, doc11=1, doc12=0, which is
  // the baseline's answer on every document.
  runs[1].tasks["piqa"].doc_ids = {13, 10, 11, 12};
  Analysis a = analyze(runs, {});
  const auto& c = find_run(a, "Tiny q")->comparisons.at("piqa");
  EXPECT_EQ(c.base_only + c.quant_only, 0);
  EXPECT_EQ(c.n, 4);
}

TEST(Analysis, TerminalTableFitsTheWidth) {
  Analysis a = sample();
  std::string table = terminal_table(a, 40);
  std::size_t lines = 0;
  for (std::size_t start = 0, nl; (nl = table.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    EXPECT_LE(nl - start, 40u);
    ++lines;
  }
  EXPECT_EQ(lines, a.runs.size() + 1);
}

}  // namespace
}  // namespace slmq::report

namespace slmq::report {
namespace {

TEST(LoadResults, DuplicatesPreviousSummariesAndBadFiles) {
  test::TempDir dir;
  auto put = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
  };
  const std::string good =
      R"({"schema_version": 1, "config_hash": "h1", "model": {"name": "M"},
          "eval": {"tasks": {"piqa": {"metric": "acc", "value": 0.5}}}, "surprise": 1})";
  put("a.json", good);
  put("b.json", good);  // same config_hash: a shard copied twice
  put("summary.json", R"({"schema": "slmquant.summary", "schema_version": 1})");
  put("c.json", "[1, 2");
  put("notes.txt", "not json, not looked at");
  std::vector<InputFile> files;
  auto records = load_results({dir.path()}, &files);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(files.size(), 3u) << "the previous summary is ignored silently";
  EXPECT_EQ(files[0].status, "used");
  EXPECT_EQ(files[0].reason, "unknown keys ignored: surprise");
  EXPECT_EQ(files[1].status, "duplicate");
  EXPECT_NE(files[1].reason.find("a.json"), std::string::npos) << files[1].reason;
  EXPECT_EQ(files[2].status, "skipped");
  EXPECT_NE(files[2].reason.find("c.json: not valid JSON"), std::string::npos) << files[2].reason;
  EXPECT_THROW(load_results({dir.path() / "missing"}, &files), ConfigError);
}

}  // namespace
}  // namespace slmq::report
