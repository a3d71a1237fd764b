// scripts/slurm/sweep.sbatch and report.sbatch without Slurm: the script bodies run with the
// variables Slurm sets, once per array task (ids 1..3, as --array=1-3 numbers them), into one
// shared folder. The oracle is the unsharded sweep of the same grid: the union of the tasks' rows
// must be its rows (same cells, hashes, statuses and outputs), each once.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

using test::data_dir;

// Result files under `dir`: id -> the fields that must agree between the two runs.
std::map<std::string, nlohmann::json> rows(const fs::path& dir) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    const auto doc = read_json_file(e.path());
    out[fs::relative(e.path(), dir).replace_extension().string()] = {
        {"hash", doc["config_hash"]},
        {"status", doc["status"]},
        {"new_token_ids", doc["generate"]["new_token_ids"]},
        {"arc_easy", doc["eval"]["tasks"]["arc_easy"]["value"]}};
  }
  return out;
}

int run_script(const std::string& env, const std::string& script) {
  const std::string command =
      env + " bash " + (fs::path(SLMQ_SOURCE_DIR) / script).string() + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SweepSlurm, ArrayTasksTogetherWriteTheUnshardedSweepsRows) {
  test::TempDir dir;
  const fs::path grid = dir.path() / "grid.yaml";
  std::ofstream(grid) << "name: tiny\nbase:\n  model: {path: "
                      << (test::reference_dir("token_ppl") / "tiny").string()
                      << ", name: tiny, device: cpu}\n"
                      << "  generate: {prompt_ids: [3, 4, 5], max_new_tokens: 3}\n"
                      << "  eval: {tasks: [arc_easy], limit: 2, data_dir: " << data_dir() << "}\n"
                      << "axes:\n"
                      << "  quant: [null, {method: rtn, scheme: w8a16}, {method: rtn, scheme: "
                         "w8a8}]\n"
                      << "  seed: [0, 1]\n";
  const fs::path whole = dir.path() / "whole", shared = dir.path() / "shared";
  auto r = test::run_cli("sweep " + grid.string() + " --out " + whole.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto expected = rows(whole);
  ASSERT_EQ(expected.size(), 6u);

  const std::string common = "GRID=" + grid.string() + " RESULTS=" + shared.string() +
                             " SLMQUANT=" + SLMQ_BINARY + " SLURM_ARRAY_TASK_MIN=1" +
                             " SLURM_ARRAY_TASK_COUNT=3";
  std::map<std::string, int> task_rows;
  for (int task = 1; task <= 3; ++task) {
    ASSERT_EQ(run_script(common + " SLURM_ARRAY_TASK_ID=" + std::to_string(task),
                         "scripts/slurm/sweep.sbatch"),
              0)
        << "task " << task;
    // Each task adds its own cells (two of six) to the shared folder.
    EXPECT_EQ(rows(shared).size(), 2u * task) << "after task " << task;
  }
  EXPECT_EQ(rows(shared), expected);

  // Without the array variables the script refuses instead of running the whole grid.
  EXPECT_NE(run_script("GRID=" + grid.string() + " SLMQUANT=" + SLMQ_BINARY,
                       "scripts/slurm/sweep.sbatch"),
            0);

  // The dependent merge job reads the shared folder: one report row per cell.
  ASSERT_EQ(run_script("RESULTS=" + shared.string() + " SLMQUANT=" + SLMQ_BINARY,
                       "scripts/slurm/report.sbatch"),
            0);
  const auto summary = read_json_file(fs::path(shared.string() + "-report") / "summary.json");
  EXPECT_EQ(summary["runs"].size(), expected.size());
}

}  // namespace
}  // namespace slmq
