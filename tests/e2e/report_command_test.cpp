// `slmquant report` end to end on the paper-table fixtures plus deliberately broken files:
// exit status, skipped files named, summary.json against its JSON Schema (Python jsonschema),
// results.csv shape, and report.html rendered by headless Chromium with every chart counted.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "slmq/score/run_record.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

// Runs a shell command, stdout and stderr to files beside `log`; returns the exit status.
int run(const std::string& cmd, const fs::path& log) {
  std::string full = cmd + " >" + log.string() + ".out 2>" + log.string() + ".err";
  int status = std::system(full.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string python() {
  const char* env = std::getenv("SLMQ_PYTHON");
  if (env && *env) return env;
  fs::path venv = fs::path(SLMQ_SOURCE_DIR) / ".venv/bin/python";
  return fs::exists(venv) ? venv.string() : "python3";
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    for (const char* dir : {"/usr/bin/", "/usr/local/bin/", "/snap/bin/"}) {
      if (fs::exists(fs::path(dir) / name)) return std::string(dir) + name;
    }
  }
  return "";
}

class ReportCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    fs::path fixtures = test::reference_dir("paper_fixtures");
    fs::path broken = dir_->path() / "broken";
    std::string good = read(fixtures / "slmquant/SmolLM-135M/00_fp16.json");
    write(broken / "truncated.json", good.substr(0, good.size() / 2));
    write(broken / "no_model.json", R"({"schema_version": 1, "eval": {"tasks": {}}})");
    auto future = nlohmann::json::parse(good);
    future["schema_version"] = 2;
    write(broken / "future_schema.json", future.dump());
    auto partial = nlohmann::json::parse(good);
    partial["eval"]["tasks"] = nlohmann::json::object();
    write(broken / "partial.json", partial.dump());
    write(broken / "notes.json", R"({"hello": "not a result"})");
    // Issue 21 defect 2: a number beyond double's range aborted the whole report (exit 70).
    write(broken / "overflow.json", R"({"overflow": 1e400, )" + good.substr(1));
    auto failed = nlohmann::json::parse(good);
    failed["status"] = "failed";
    failed["failed_reason"] = "CUDA out of memory";
    failed["quant"] = {{"method", "gptq"}, {"label", "GPTQ W2A16"}, {"w_bits", 2}, {"a_bits", 16}};
    failed["run_id"] = "failed-run";
    write(broken / "failed_run.json", failed.dump());
    // Two runs with per-item scores, so the report carries a paired test.
    std::vector<int> base(300), quant(300);
    for (int i = 0; i < 300; ++i) {
      base[i] = i % 3 != 0;
      quant[i] = i % 3 != 0 && i % 10 != 1;  // loses about 1 item in 10 of those the baseline got
    }
    auto paired_run = [](const std::string& method, const std::vector<int>& correct) {
      double sum = 0;
      for (int c : correct) sum += c;
      return nlohmann::json{{"schema_version", 1},
                            {"model", {{"name", "Tiny-1M"}}},
                            {"quant", {{"method", method}, {"w_bits", method == "none" ? 16 : 4}}},
                            {"eval",
                             {{"tasks",
                               {{"piqa",
                                 {{"metric", "acc"},
                                  {"value", sum / static_cast<double>(correct.size())},
                                  {"correct", correct}}}}}}}};
    };
    write(dir_->path() / "tiny" / "base.json", paired_run("none", base).dump());
    write(dir_->path() / "tiny" / "rtn.json", paired_run("rtn", quant).dump());
    out_ = dir_->path() / "out";
    std::string cmd = std::string(SLMQ_BINARY) + " report " + (fixtures / "slmquant").string() +
                      " " + (fixtures / "slim_eval").string() + " " + broken.string() + " " +
                      (dir_->path() / "tiny").string() + " --out " + out_.string() +
                      " --table always";
    status_ = run(cmd, dir_->path() / "report");
    stderr_ = read(dir_->path() / "report.err");
    stdout_ = read(dir_->path() / "report.out");
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
  static fs::path out_;
  static int status_;
  static std::string stderr_, stdout_;
};
test::TempDir* ReportCommand::dir_ = nullptr;
fs::path ReportCommand::out_;
int ReportCommand::status_ = -1;
std::string ReportCommand::stderr_, ReportCommand::stdout_;

TEST_F(ReportCommand, WritesFourOutputsAndNamesSkippedFiles) {
  ASSERT_EQ(status_, 0) << stderr_;
  for (const char* f : {"summary.json", "results.csv", "report.md", "report.html"}) {
    EXPECT_TRUE(fs::is_regular_file(out_ / f)) << f;
  }
  for (const char* f : {"truncated.json", "no_model.json", "future_schema.json", "partial.json",
                        "notes.json", "overflow.json"}) {
    EXPECT_NE(stderr_.find(f), std::string::npos) << f << " not named in:\n" << stderr_;
  }
  auto summary = nlohmann::json::parse(read(out_ / "summary.json"));
  int skipped = 0;
  for (const auto& in : summary["inputs"]) skipped += in["status"] == "skipped";
  EXPECT_EQ(skipped, 6);
  // 14 SLMQuant rows + 13 SLiM-Eval rows + 2 tiny runs + the failed run, kept as a failed row.
  ASSERT_EQ(summary["runs"].size(), 30u);
  bool failed_seen = false;
  for (const auto& r : summary["runs"]) {
    if (r["status"] == "failed") {
      failed_seen = true;
      EXPECT_EQ(r["failed_reason"], "CUDA out of memory");
      EXPECT_EQ(r["flags"][0], "failed: CUDA out of memory");
    }
  }
  EXPECT_TRUE(failed_seen);
  // --table always: one header line and one line per run.
  EXPECT_EQ(std::count(stdout_.begin(), stdout_.end(), '\n'), 31) << stdout_;
  // The tiny pair was compared item by item; the markdown says how.
  std::string md = read(out_ / "report.md");
  EXPECT_NE(md.find("| rtn W4A16 | piqa |"), std::string::npos);
  EXPECT_NE(md.find("paired bootstrap + McNemar exact"), std::string::npos);
}

TEST_F(ReportCommand, OutputsMatchTheirJsonSchemas) {
  ASSERT_EQ(status_, 0) << stderr_;
  if (run(python() + " -c 'import jsonschema'", dir_->path() / "import") != 0) {
    // The GPU machines run offline with a system python (scripts/setup.sh, SLMQ_OFFLINE=1);
    // everywhere else set-up installs jsonschema, so its absence is a failure there.
    const char* offline = std::getenv("SLMQ_OFFLINE");
    if (offline && std::string(offline) == "1")
      GTEST_SKIP() << "jsonschema is not installed (offline machine)";
    FAIL() << python() << " lacks the jsonschema package: run scripts/setup.sh";
  }
  fs::path schema = fs::path(SLMQ_SOURCE_DIR) / "schemas/summary-v1.schema.json";
  fs::path check = fs::path(SLMQ_SOURCE_DIR) / "scripts/check/validate_json_schema.py";
  std::string cmd = python() + " " + check.string() + " " + schema.string() + " ";
  EXPECT_EQ(run(cmd + (out_ / "summary.json").string(), dir_->path() / "schema"), 0)
      << read(dir_->path() / "schema.out") << read(dir_->path() / "schema.err");
  // The validator must be able to fail: a summary without its runs' scores does not pass.
  auto broken = nlohmann::json::parse(read(out_ / "summary.json"));
  broken["runs"][0].erase("scores");
  broken["schema_version"] = 2;
  write(dir_->path() / "broken_summary.json", broken.dump());
  EXPECT_EQ(run(cmd + (dir_->path() / "broken_summary.json").string(), dir_->path() / "schema_bad"),
            1)
      << read(dir_->path() / "schema_bad.err");
  EXPECT_NE(read(dir_->path() / "schema_bad.out").find("scores"), std::string::npos);
  // Result files: every fixture, and what RunRecord's own to_json writes, match the run schema.
  std::string files;
  for (const auto& e : fs::recursive_directory_iterator(test::reference_dir("paper_fixtures"))) {
    if (e.path().extension() == ".json" && e.path().filename() != "expected.json")
      files += " " + e.path().string();
  }
  score::RunRecord rec = score::load_run_record(test::reference_dir("paper_fixtures") /
                                                "slmquant/SmolLM-135M/01_smoothquant_w8a8.json");
  rec.tasks["piqa"].correct = {1, 0, 1};
  rec.tasks["piqa"].doc_ids = {4, 5, 6};
  rec.tasks["piqa"].n = 3;
  write(dir_->path() / "to_json.json", score::to_json(rec).dump());
  fs::path run_schema = fs::path(SLMQ_SOURCE_DIR) / "schemas/run-v1.schema.json";
  std::string run_cmd = python() + " " + check.string() + " " + run_schema.string() + files + " " +
                        (dir_->path() / "to_json.json").string();
  EXPECT_EQ(run(run_cmd, dir_->path() / "run_schema"), 0) << read(dir_->path() / "run_schema.out");
  EXPECT_EQ(run(python() + " " + check.string() + " " + run_schema.string() + " " +
                    (dir_->path() / "broken" / "no_model.json").string(),
                dir_->path() / "run_schema_bad"),
            1);
}

TEST_F(ReportCommand, CsvHasOneRowPerRun) {
  ASSERT_EQ(status_, 0) << stderr_;
  std::string csv = read(out_ / "results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 31);
  EXPECT_EQ(csv.rfind("id,model,label,method,w_bits,a_bits,is_baseline,status,mean_accuracy,", 0),
            0u);
}

// Chart id -> expected mark count, derived from summary.json (and, for the heatmap, from the
// fixtures' known shape: 14 runs x 5 accuracy tasks + 13 runs x 3 + 2 tiny runs x 1).
std::map<std::string, std::size_t> expected_charts(const nlohmann::json& s) {
  std::map<std::string, std::size_t> out;
  for (const auto& f : s["pareto"]["fronts_2d"]) {
    if (!f["points"].empty())
      out["pareto-" + f["x"].get<std::string>() + "-vs-" + f["y"].get<std::string>()] =
          f["points"].size();
  }
  std::size_t heat = 0, change = 0, perf = 0, speed = 0, latency = 0, mem = 0, size = 0, energy = 0,
              qt = 0, qm = 0, sq = 0, ttft = 0, tpot = 0, joules = 0;
  for (const auto& r : s["runs"]) {
    if (r["status"] != "ok") continue;
    for (const auto& [name, t] : r["tasks"].items()) heat += t["kind"] == "accuracy";
    // Absolute latency and energy charts include the baselines.
    const auto& p = r["profile"];
    auto has = [&](const char* k) { return p.is_object() && p.contains(k) && !p[k].is_null(); };
    ttft += has("ttft_ms_p50");
    tpot += has("tpot_ms_p50");
    joules += has("energy_j");
    if (r["is_baseline"]) continue;
    const auto& rel = r["relative"];
    if (!rel.is_null()) {
      change += rel["accuracy_change_pct"].size();
      speed += !rel["speedup"].is_null();
      latency += !rel["latency_ratio"].is_null();
      mem += !rel["memory_change_pct"].is_null();
      size += !rel["size_change_pct"].is_null();
      energy += !rel["energy_reduction_pct"].is_null();
    }
    perf += !r["scores"]["slmq_perf"].is_null();
    sq += !r["scores"]["slmq_quant"].is_null();
    qt += r["quant_cost"].contains("wall_time_s");
    qm += r["quant_cost"].contains("peak_memory_mib");
  }
  out["accuracy-heatmap"] = heat;
  for (auto [id, n] : std::map<std::string, std::size_t>{{"accuracy-change", change},
                                                         {"slmq-perf", perf},
                                                         {"speedup", speed},
                                                         {"latency-ratio", latency},
                                                         {"memory-change", mem},
                                                         {"size-change", size},
                                                         {"energy-reduction", energy},
                                                         {"quant-time", qt},
                                                         {"quant-memory", qm},
                                                         {"slmq-quant", sq},
                                                         {"ttft", ttft},
                                                         {"tpot", tpot},
                                                         {"energy", joules}}) {
    if (n > 0) out[id] = n;
  }
  return out;
}

TEST_F(ReportCommand, HtmlRendersInHeadlessChromiumWithEveryChart) {
  ASSERT_EQ(status_, 0) << stderr_;
  std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  std::string html = read(out_ / "report.html");
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"))
      << "only the SVG namespace may be a URL";
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos) << "no external assets";
  fs::path profile = dir_->path() / "chromium-profile";
  std::string cmd = "timeout 120 " + chromium +
                    " --headless --no-sandbox --disable-gpu --user-data-dir=" + profile.string() +
                    " --dump-dom file://" + (out_ / "report.html").string();
  ASSERT_EQ(run(cmd, dir_->path() / "dom"), 0) << read(dir_->path() / "dom.err");
  std::string dom = read(dir_->path() / "dom.out");
  ASSERT_NE(dom.find("</html>"), std::string::npos) << "Chromium returned no document";
  // Split the rendered DOM at each chart figure and count its marks.
  std::regex fig_re(
      R"re(<figure class="chart" id="chart-([^"]+)" data-chart="([^"]+)" data-points="(\d+)">)re");
  std::map<std::string, std::size_t> rendered;
  auto begin = std::sregex_iterator(dom.begin(), dom.end(), fig_re);
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    std::size_t start = it->position(0);
    std::size_t end = dom.find("</figure>", start);
    std::string body = dom.substr(start, end - start);
    std::size_t marks = 0;
    for (std::size_t at = 0; (at = body.find("class=\"mark", at)) != std::string::npos; ++at)
      ++marks;
    EXPECT_EQ(marks, std::stoul((*it)[3]))
        << (*it)[2] << ": data-points disagrees with what was drawn";
    EXPECT_NE(body.find("<svg"), std::string::npos) << (*it)[2];
    rendered[(*it)[2]] = marks;
  }
  auto summary = nlohmann::json::parse(read(out_ / "summary.json"));
  auto expected = expected_charts(summary);
  EXPECT_EQ(rendered, expected);
  EXPECT_EQ(rendered["accuracy-heatmap"], 14u * 5 + 13u * 3 + 2);
  EXPECT_EQ(rendered["slmq-quant"], 6u) << "the six W8A8 rows of SLMQuant Table 4";
}

TEST(ReportCommandErrors, NoUsableInputIsAnErrorNamingTheFiles) {
  test::TempDir dir;
  write(dir.path() / "in" / "bad.json", "{");
  std::string cmd = std::string(SLMQ_BINARY) + " report " + (dir.path() / "in").string() +
                    " --out " + (dir.path() / "out").string();
  EXPECT_NE(run(cmd, dir.path() / "log"), 0);
  EXPECT_NE(read(dir.path() / "log.err").find("bad.json"), std::string::npos)
      << read(dir.path() / "log.err");
  EXPECT_FALSE(fs::exists(dir.path() / "out" / "summary.json"));
}

}  // namespace
}  // namespace slmq
