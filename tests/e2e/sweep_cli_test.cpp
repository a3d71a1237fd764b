// `slmquant sweep` end to end on the tiny Llama of the RTN reference data: resume after a real
// kill -9, failed cells as rows, --dry-run / --only, shards and --devices. Every cell of the
// unsharded, uninterrupted sweep is the oracle: its rows must come back, once each, complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

using test::data_dir;

std::string tiny_model() { return (test::reference_dir("token_ppl") / "tiny").string(); }

// 5 quant settings x 2 generation lengths on the 2-layer Llama with the SmolLM2 tokenizer; each
// cell quantizes, generates and scores 2 ARC-Easy items in about a second, so that `report`
// takes its rows.
std::string tiny_grid() {
  return "name: tiny\n"
         "base:\n"
         "  model: {path: " +
         tiny_model() +
         ", name: tiny, device: cpu}\n"
         "  generate: {prompt_ids: [3, 4, 5], max_new_tokens: 4, stop_at_eos: false}\n"
         "  eval: {tasks: [arc_easy], limit: 2, data_dir: " +
         data_dir() +
         "}\n"
         "zip:\n"
         "  - quant: [null, {method: rtn, scheme: w8a16},\n"
         "            {method: rtn, scheme: w4a16, weight: {group_size: 16}},\n"
         "            {method: rtn, scheme: w8a8}, {method: rtn, scheme: w4a8, weight: "
         "{group_size: 16}}]\n"
         "axes:\n"
         "  generate.max_new_tokens: [4, 6]\n"
         "labels: {generate.max_new_tokens: n}\n";
}

fs::path write_grid(const test::TempDir& dir, const std::string& text) {
  const fs::path path = dir.path() / "grid.yaml";
  std::ofstream(path) << text;
  return path;
}

// id -> (hash, state) from --dry-run.
std::map<std::string, std::pair<std::string, std::string>> dry_run(const std::string& args) {
  auto r = test::run_cli("sweep " + args + " --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::pair<std::string, std::string>> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, hash, state;
    if (std::getline(fields, id, '\t') && std::getline(fields, hash, '\t') &&
        std::getline(fields, state, '\t'))
      out[id] = {hash, state};
  }
  return out;
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  return out;
}

// Temporary files of the atomic writer (<result>.json.tmp.XXXXXX) under `dir`.
size_t temp_files(const fs::path& dir) {
  size_t n = 0;
  for (const auto& path : files_under(dir))
    n += path.filename().string().find(".json.tmp.") != std::string::npos;
  return n;
}

// Every result file under `dir` is complete (parses, has a status); returns id -> status, the id
// being the path under `dir` without ".json" (each cell has one file by construction).
std::map<std::string, std::string> complete_rows(const fs::path& dir) {
  std::map<std::string, std::string> rows;
  for (const auto& path : files_under(dir)) {
    if (path.extension() != ".json") continue;  // eval journals, temporary files
    const auto doc = read_json_file(path);      // throws on a half-written file
    EXPECT_TRUE(doc.contains("status")) << path;
    std::string id = fs::relative(path, dir).replace_extension().string();
    rows[id] = doc.value("status", "");
  }
  return rows;
}

pid_t spawn(const std::string& args, const fs::path& log) {
  const std::string command =
      "exec " + std::string(SLMQ_BINARY) + " " + args + " >" + log.string() + " 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

TEST(SweepCli, KillNineAtAnyMomentThenResumeLosesAndDuplicatesNothing) {
  test::TempDir dir;
  const fs::path grid = write_grid(dir, tiny_grid());
  const fs::path out = dir.path() / "res";
  const std::string args = "sweep " + grid.string() + " --out " + out.string();
  const auto cells = dry_run(grid.string() + " --out " + out.string());
  ASSERT_EQ(cells.size(), 10u);
  // Kill at three moments: right after the first, the third and the fifth result appeared (the
  // process is then inside another cell or writing one).
  size_t killed_mid_sweep = 0;
  for (size_t want : {1u, 3u, 5u}) {
    const pid_t pid = spawn(args, dir.path() / "log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      size_t n = 0;
      for (const auto& f : files_under(out)) n += f.extension() == ".json";
      if (n >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed_mid_sweep += WIFSIGNALED(status);
    // Whatever the moment, each file there is complete and no cell has two.
    const auto rows = complete_rows(out);
    for (const auto& [id, st] : rows) EXPECT_EQ(st, "ok") << id;
  }
  EXPECT_GE(killed_mid_sweep, 1u) << "every sweep finished before it was killed";
  EXPECT_LT(complete_rows(out).size(), cells.size());

  auto r = test::run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = complete_rows(out);
  ASSERT_EQ(rows.size(), cells.size());
  EXPECT_EQ(temp_files(out), 0u);  // litter of killed writers is removed when a cell reruns
  for (const auto& [id, hash_state] : cells) {
    ASSERT_EQ(rows.count(id), 1u) << id;
    EXPECT_EQ(rows.at(id), "ok") << id;
    const auto doc = read_json_file(out / (id + ".json"));
    EXPECT_EQ(doc["config_hash"], hash_state.first) << id;
    EXPECT_EQ(doc["generate"]["new_token_ids"].size(),
              id.find("-n6") != std::string::npos ? 6u : 4u);
  }
  // A finished sweep resumes to nothing: same files, byte for byte.
  auto stamps = [&] {
    std::map<fs::path, fs::file_time_type> t;
    for (const auto& f : files_under(out))
      if (f.extension() == ".json") t[f] = fs::last_write_time(f);
    return t;
  };
  const auto before = stamps();
  r = test::run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("10 up to date, 0 to run"), std::string::npos) << r.err;
  EXPECT_EQ(stamps(), before);
  for (const auto& [id, hs] : dry_run(grid.string() + " --out " + out.string()))
    EXPECT_EQ(hs.second, "ok") << id;

  // The report reads one row per cell.
  r = test::run_cli("report " + out.string() + " --out " + (dir.path() / "rep").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = read_json_file(dir.path() / "rep" / "summary.json");
  size_t used = 0;
  for (const auto& f : summary["inputs"]) used += f.value("status", "") == "used";
  EXPECT_EQ(used, cells.size()) << summary["inputs"].dump();
}

TEST(SweepCli, AFailingCellIsAFailedRowAndTheSweepGoesOn) {
  test::TempDir dir;
  // w3a99 does not validate (a config error before the pipeline); GPTQ's calibration file
  // does not exist (a data error inside the pipeline, after the model is loaded).
  const fs::path grid =
      write_grid(dir, "name: f\nbase:\n  model: {path: " + tiny_model() +
                          ", name: tiny, device: cpu}\n"
                          "  eval: {tasks: [arc_easy], limit: 2, data_dir: " +
                          data_dir() +
                          "}\n"
                          "axes:\n"
                          "  quant: [{method: rtn, scheme: w8a16}, {method: rtn, scheme: w3a99},\n"
                          "          {method: gptq, scheme: w8a16, calibration: {source: "
                          "/nonexistent/calib.txt}}]\n");
  const fs::path out = dir.path() / "res";
  const std::string args = "sweep " + grid.string() + " --out " + out.string();
  auto r = test::run_cli(args);
  EXPECT_EQ(r.exit_code, 102) << r.err;  // 100 + two failed cells
  const auto rows = complete_rows(out);
  ASSERT_EQ(rows.size(), 3u) << r.err;
  EXPECT_EQ(rows.at("tiny/rtn-w8a16"), "ok");
  EXPECT_EQ(rows.at("tiny/rtn-w3a99"), "failed");
  EXPECT_EQ(rows.at("tiny/gptq-w8a16"), "failed");
  for (const char* id : {"tiny/rtn-w3a99", "tiny/gptq-w8a16"}) {
    const auto doc = read_json_file(out / (std::string(id) + ".json"));
    EXPECT_FALSE(doc.value("failed_reason", "").empty()) << id;
    EXPECT_EQ(doc["model"]["name"], "tiny") << id;  // what the report needs of a failed row
  }
  EXPECT_EQ(read_json_file(out / "tiny/rtn-w3a99.json")["error"]["category"], "config error");
  EXPECT_EQ(read_json_file(out / "tiny/gptq-w8a16.json")["error"]["category"], "data error");
  // Failed cells are retried by default, kept with --no-retry-failed; the exit status still
  // counts them.
  r = test::run_cli(args);
  EXPECT_EQ(r.exit_code, 102);
  EXPECT_NE(r.err.find("1 up to date, 2 to run"), std::string::npos) << r.err;
  r = test::run_cli(args + " --no-retry-failed");
  EXPECT_EQ(r.exit_code, 102);
  EXPECT_NE(r.err.find("3 up to date, 0 to run"), std::string::npos) << r.err;
  // The report keeps failed rows as rows.
  r = test::run_cli("report " + out.string() + " --out " + (dir.path() / "rep").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t failed = 0, used = 0;
  const auto summary = read_json_file(dir.path() / "rep" / "summary.json");
  for (const auto& run : summary["runs"]) failed += run.value("status", "") == "failed";
  for (const auto& f : summary["inputs"]) used += f.value("status", "") == "used";
  EXPECT_EQ(used, 3u);
  EXPECT_EQ(failed, 2u);
}

TEST(SweepCli, DryRunOnlyAndShardsSplitTheGridByHash) {
  test::TempDir dir;
  const fs::path grid = write_grid(dir, tiny_grid());
  const auto all = dry_run(grid.string());
  ASSERT_EQ(all.size(), 10u);
  for (const auto& [id, hs] : all) {
    EXPECT_EQ(hs.first.size(), 16u) << id;
    EXPECT_EQ(hs.second, "missing") << id;
  }
  EXPECT_EQ(all.count("tiny/fp32-n4"), 1u);
  EXPECT_EQ(all.count("tiny/rtn-w4a8-n6"), 1u);
  EXPECT_EQ(dry_run(grid.string() + " --only w8a").size(), 4u);
  EXPECT_EQ(dry_run(grid.string() + " --only 'tiny/rtn-*-n6'").size(), 4u);
  for (int n : {2, 3}) {
    std::map<std::string, int> owner;
    for (int i = 0; i < n; ++i) {
      const auto part =
          dry_run(grid.string() + " --shard " + std::to_string(i) + "/" + std::to_string(n));
      EXPECT_LE(part.size(), (all.size() + n - 1) / n);
      EXPECT_GE(part.size(), all.size() / n);
      for (const auto& [id, hs] : part) {
        EXPECT_TRUE(owner.emplace(id, i).second) << id << " in two shards";
        EXPECT_EQ(hs, all.at(id));
      }
    }
    EXPECT_EQ(owner.size(), all.size());
  }
  auto r = test::run_cli("sweep " + grid.string() + " --shard 3/3 --dry-run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--shard"), std::string::npos);
}

TEST(SweepCli, DevicesAreValidatedAndEachWorkerRunsItsPart) {
  test::TempDir dir;
  const fs::path grid = write_grid(dir, tiny_grid());
  for (const char* bad : {"gpu0", "cuda:0,cuda:0", "cuda:x"}) {
    auto r = test::run_cli("sweep " + grid.string() + " --dry-run --devices " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--devices"), std::string::npos) << r.err;
  }
  // On this machine without CUDA a GPU worker cannot start; with CUDA, cuda:99 does not exist.
  auto r = test::run_cli("sweep " + grid.string() + " --dry-run --devices cuda:0,cuda:99");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("CUDA device"), std::string::npos) << r.err;

  // The split --dry-run shows is the shard function's, and two CPU workers run every cell once.
  r = test::run_cli("sweep " + grid.string() + " --dry-run --devices cpu,cpu");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int j = 0; j < 2; ++j) {
    const auto part = dry_run(grid.string() + " --shard " + std::to_string(j) + "/2");
    for (const auto& [id, hs] : part)
      EXPECT_NE(
          r.out.find(id + "\t" + hs.first + "\tmissing\tworker " + std::to_string(j) + " (cpu)"),
          std::string::npos)
          << id << "\n"
          << r.out;
  }
  const fs::path out = dir.path() / "res";
  r = test::run_cli("sweep " + grid.string() + " --out " + out.string() + " --devices cpu,cpu");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("worker 0/2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("worker 1/2"), std::string::npos) << r.err;
  const auto rows = complete_rows(out);
  EXPECT_EQ(rows.size(), 10u);
  for (const auto& [id, st] : rows) EXPECT_EQ(st, "ok") << id;
}

// The work a sweep shares across cells (one open source, one baseline model, one tokenized corpus,
// the baseline's KL hidden states once per window) gives every cell the numbers it gets on its own
// (--no-share): the same computation on the same thread count, so the tolerance is zero.
TEST(SweepCli, SharedWorkGivesEachCellItsUnsharedResult) {
  test::TempDir dir;
  const fs::path grid =
      write_grid(dir, "name: s\nbase:\n  model: {path: " + tiny_model() +
                          ", name: tiny, device: cpu}\n"
                          "  ppl: {seqlen: 64, limit_windows: 3, data_dir: " +
                          data_dir() +
                          "}\n"
                          "zip:\n"
                          "  - quant: [null, {method: rtn, scheme: w8a16},\n"
                          "            {method: rtn, scheme: w4a16, weight: {group_size: 16}}]\n"
                          "    ppl.kl: [false, true, true]\n"
                          "labels: {ppl.kl: null}\n");
  const fs::path shared = dir.path() / "shared", alone = dir.path() / "alone";
  auto r = test::run_cli("sweep " + grid.string() + " --out " + shared.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // One open and one baseline for three cells; the second KL cell reuses the 3 windows' states.
  EXPECT_NE(r.err.find("\"model_opens\":1,\"model_reuses\":2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"baseline_builds\":1,\"baseline_reuses\":1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"corpus_loads\":1,\"corpus_reuses\":2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"kl_base_batches_computed\":3,\"kl_base_batches_reused\":3"),
            std::string::npos)
      << r.err;
  r = test::run_cli("sweep " + grid.string() + " --out " + alone.string() + " --no-share");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("shared work"), std::string::npos);
  for (const char* id : {"tiny/fp32", "tiny/rtn-w8a16", "tiny/rtn-w4a16"}) {
    const auto a = read_json_file(shared / (std::string(id) + ".json"));
    const auto b = read_json_file(alone / (std::string(id) + ".json"));
    EXPECT_EQ(a["config_hash"], b["config_hash"]) << id;
    EXPECT_EQ(a["ppl"]["wiki_token_perplexity"]["ppl"], b["ppl"]["wiki_token_perplexity"]["ppl"])
        << id;
    EXPECT_EQ(a["ppl"]["corpus"], b["ppl"]["corpus"]) << id;
    if (std::string(id) != "tiny/fp32") {
      auto kl = [](nlohmann::json j) {
        j.erase("seconds");
        for (const char* k : {"test_wiki_token_perplexity", "base_wiki_token_perplexity"}) {
          j[k].erase("seconds");
          j[k].erase("tokens_per_second");
        }
        return j;
      };
      EXPECT_EQ(kl(a["ppl"]["kl_divergence"]), kl(b["ppl"]["kl_divergence"])) << id;
      EXPECT_GT(a["ppl"]["kl_divergence"]["kl_mean"]["value"].get<double>(), 0) << id;
    }
  }
}

}  // namespace
}  // namespace slmq
