// `slmquant eval` and the `eval:` block of `slmquant run` end to end on SmolLM2-135M (GGUF):
// the files they write, their agreement with each other, the errors users see, and that
// `slmquant report` takes the run's eval.tasks. Numbers themselves are checked against lm-eval in
// eval_lm_eval_model_parity_test.cpp; here the outputs must be consistent: results.json's acc
// equals the mean of the per-item records, the run file's eval.tasks matches results.json for
// the same items.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kModel = fs::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
// ctest runs in the build folder: name the data folder instead of relying on the working dir.
const std::string kData = (fs::path(SLMQ_SOURCE_DIR) / "assets/data").string();

std::vector<json> read_jsonl(const fs::path& p) {
  std::vector<json> rows;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

json read_json(const fs::path& p) { return json::parse(std::ifstream(p)); }

TEST(EvalCli, WritesResultsAndSamplesThatAgree) {
  test::TempDir dir;
  auto r =
      test::run_cli("eval " + kModel.string() +
                    " --tasks arc_easy --limit 3 --batch-tokens 400 --log-samples --data-dir " +
                    kData + " --out " + (dir.path() / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("|arc_easy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("acc_norm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Requests/s"), std::string::npos) << r.out;

  json res = read_json(dir.path() / "out/results.json");
  EXPECT_EQ(res["settings"]["bos_policy"], "default");
  EXPECT_EQ(res["settings"]["max_length"], 8192);  // the GGUF's context_length
  EXPECT_EQ(res["tasks"]["arc_easy"]["requests"], 12);
  EXPECT_GT(res["tasks"]["arc_easy"]["wall_seconds"].get<double>(), 0.0);
  EXPECT_GT(res["tasks"]["arc_easy"]["requests_per_second"].get<double>(), 0.0);

  auto samples = read_jsonl(dir.path() / "out/samples_arc_easy.jsonl");
  ASSERT_EQ(samples.size(), 3u);
  double acc = 0, acc_norm = 0;
  for (const auto& s : samples) {
    EXPECT_EQ(s["loglikelihoods"].size(), s["targets"].size());
    EXPECT_TRUE(s.contains("prompt") && s.contains("gold") && s.contains("prediction"));
    acc += s["metrics"]["acc"].get<double>() / 3;
    acc_norm += s["metrics"]["acc_norm"].get<double>() / 3;
  }
  EXPECT_NEAR(res["results"]["arc_easy"]["acc,none"].get<double>(), acc, 1e-12);
  EXPECT_NEAR(res["results"]["arc_easy"]["acc_norm,none"].get<double>(), acc_norm, 1e-12);
  EXPECT_EQ(res["eval_tasks"]["arc_easy"]["metric"], "acc_norm");
  EXPECT_EQ(res["eval_tasks"]["arc_easy"]["correct"].size(), 3u);
}

// An interrupted eval resumes: the journal keeps finished batches, a rerun computes the rest
// and gives the same numbers; other settings or --no-resume recompute everything.
TEST(EvalCli, InterruptedRunResumesFromItsJournal) {
  test::TempDir dir;
  const fs::path out = dir.path() / "out";
  const std::string command = "eval " + kModel.string() +
                              " --tasks arc_easy --limit 4 --batch-tokens 64 --log-samples "
                              "--data-dir " +
                              kData + " --out " + out.string();
  auto first = test::run_cli(command);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto want = read_jsonl(out / "samples_arc_easy.jsonl");
  // Keep the header and the first batch; add a line torn by the kill.
  std::ifstream in(out / "journal/arc_easy.jsonl");
  std::string header, batch;
  ASSERT_TRUE(std::getline(in, header) && std::getline(in, batch));
  in.close();
  std::ofstream(out / "journal/arc_easy.jsonl", std::ios::trunc)
      << header << "\n"
      << batch << "\n{\"section\": \"loglik";
  const size_t batch_rows = [&] {
    size_t rows = 0;
    const json record = json::parse(batch);
    for (const auto& unit : record["units"]) rows += unit[1].size();
    return rows;
  }();

  auto resumed = test::run_cli(command);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming"), std::string::npos) << resumed.err;
  json res = read_json(out / "results.json");
  EXPECT_EQ(res["tasks"]["arc_easy"]["work"]["resumed_rows"], batch_rows);
  EXPECT_GT(res["tasks"]["arc_easy"]["work"]["batches"].get<int>(), 0);
  // The remaining batches are the same as the first run's: the same numbers, bit for bit.
  const auto got = read_jsonl(out / "samples_arc_easy.jsonl");
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i]["loglikelihoods"], want[i]["loglikelihoods"]) << "doc " << i;

  auto fresh = test::run_cli(command + " --no-resume");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(read_json(out / "results.json")["tasks"]["arc_easy"]["work"]["resumed_rows"], 0);
  auto other = test::run_cli(command + " --bos always");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(read_json(out / "results.json")["tasks"]["arc_easy"]["work"]["resumed_rows"], 0);
}

TEST(EvalCli, ClearErrors) {
  auto r = test::run_cli("eval " + kModel.string() + " --tasks arc_easy,nope");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown eval task 'nope'"), std::string::npos) << r.err;
  r = test::run_cli("eval " + kModel.string() + " --tasks arc_easy --log-samples");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--log-samples needs --out"), std::string::npos) << r.err;
  r = test::run_cli("eval " + kModel.string() + " --tasks arc_easy --bos sometimes");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'sometimes' is not one of default, always, never"), std::string::npos)
      << r.err;
  // Issue 21 defect 7: an unwritable --out was an internal error (70); run and report say 3.
  test::TempDir dir;
  std::ofstream(dir.path() / "file") << "in the way";
  const fs::path out = dir.path() / "file" / "sub";
  r = test::run_cli("eval " + kModel.string() + " --tasks arc_easy --limit 1 --data-dir " + kData +
                    " --out " + out.string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("slmquant: data error: cannot create the directory '" + out.string() + "'"),
            std::string::npos)
      << r.err;
}

TEST(EvalCli, RunConfigEvalBlockFeedsReport) {
  test::TempDir dir;
  const fs::path config = dir.path() / "smol_eval.yaml";
  std::ofstream(config)
      << "model:\n  path: " << kModel.string()
      << "\n  name: SmolLM2-135M\neval:\n  tasks: [arc_easy]\n  limit: 2\n  data_dir: " << kData
      << "\n"
      << "  log_samples: true\n";
  auto r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "runs").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json run = read_json(dir.path() / "runs/smol_eval.json");
  ASSERT_EQ(run["status"], "ok");
  const json& t = run["eval"]["tasks"]["arc_easy"];
  EXPECT_EQ(t["kind"], "accuracy");
  EXPECT_EQ(t["metric"], "acc_norm");
  EXPECT_EQ(t["n"], 2);
  EXPECT_EQ(t["correct"].size(), 2u);
  EXPECT_NEAR(t["value"].get<double>(),
              run["eval"]["results"]["arc_easy"]["acc_norm,none"].get<double>(), 0.0);
  EXPECT_EQ(read_jsonl(dir.path() / "runs/smol_eval.samples/samples_arc_easy.jsonl").size(), 2u);

  // A run that died before writing its result resumes its eval from the journal; --force does not.
  fs::remove(dir.path() / "runs/smol_eval.json");
  r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "runs").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json again = read_json(dir.path() / "runs/smol_eval.json");
  EXPECT_EQ(again["eval"]["details"]["arc_easy"]["work"]["resumed_rows"], 8);  // 2 docs x 4
  EXPECT_EQ(again["eval"]["results"], run["eval"]["results"]);
  r = test::run_cli("run " + config.string() + " --force --out " + (dir.path() / "runs").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(dir.path() /
                      "runs/smol_eval.json")["eval"]["details"]["arc_easy"]["work"]["resumed_rows"],
            0);

  // The same eval through `slmquant eval` gives the same numbers.
  auto e = test::run_cli("eval " + kModel.string() + " --tasks arc_easy --limit 2 --data-dir " +
                         kData + " --out " + (dir.path() / "cli").string());
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(read_json(dir.path() / "cli/results.json")["results"]["arc_easy"],
            run["eval"]["results"]["arc_easy"]);
  // ... and the run's result layout (one way to evaluate, one result file).
  json cli_result = read_json(dir.path() / "cli/result.json");
  EXPECT_EQ(cli_result["status"], "ok");
  EXPECT_EQ(cli_result["schema_version"], run["schema_version"]);
  EXPECT_EQ(cli_result["eval"]["tasks"]["arc_easy"], run["eval"]["tasks"]["arc_easy"]);
  EXPECT_EQ(cli_result["model"]["params"], run["model"]["params"]);

  auto rep = test::run_cli("report " + (dir.path() / "runs").string() + " --out " +
                           (dir.path() / "report").string() + " --table always");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  json summary = read_json(dir.path() / "report/summary.json");
  EXPECT_NE(summary.dump().find("arc_easy"), std::string::npos) << summary.dump().substr(0, 2000);
  EXPECT_EQ(rep.err.find("skipped"), std::string::npos) << rep.err;
}

}  // namespace
}  // namespace slmq
