// Faults a long run meets (issue 21): kill -9 inside each phase of `run`, `eval` and `quantize`,
// a full disk, a second process on the same output. Each kill lands at a fault point
// (core/fault_injection.h) where the process waits to be killed, so the phase is certain; the
// rerun must give the numbers of an uninterrupted run, and no file visible under the output
// folder may ever be partial or invalid. On the tiny llama of gen_token_ppl.py.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "slmq/io/json_file.h"
#include "support/result_compare.h"
#include "support/run_cli.h"
#include "support/small_wikitext.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

std::string model() { return (test::reference_dir("token_ppl") / "tiny").string(); }
using test::data_dir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `slmquant ARGS` with SLMQ_FAULT_PAUSE=POINT, killed with SIGKILL once it reports that it paused
// there. Returns its stderr.
std::string kill_at(const std::string& point, const std::string& args, const fs::path& log_dir) {
  const fs::path err = log_dir / ("killed_at_" + point + ".err");
  const std::string command = "exec env SLMQ_DATA_DIR=" + data_dir() +
                              " SLMQ_FAULT_PAUSE=" + point + " " + SLMQ_BINARY + " " + args +
                              " >/dev/null 2>" + err.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string marker = "paused at " + point;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  int status = 0;
  bool exited = false;
  while (slurp(err).find(marker) == std::string::npos) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  const std::string log = slurp(err);
  EXPECT_NE(log.find(marker), std::string::npos) << "never reached " << point << ":\n" << log;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << log;
  return log;
}

// Lines of `log` that are slmquant's error line (the rest is progress and info logging).
int count_error_lines(const std::string& log) {
  std::istringstream lines(log);
  int n = 0;
  for (std::string line; std::getline(lines, line);) n += line.rfind("slmquant: ", 0) == 0;
  return n;
}

test::CliResult run(const std::string& args) {
  return test::run_cli(args);  // SLMQ_DATA_DIR as the test environment has it
}

// Every file a user sees under `dir` (names not starting with '.') is whole: JSON parses, and
// every line of a JSON-lines file parses.
void expect_no_partial_files(const fs::path& dir) {
  if (!fs::exists(dir)) return;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const std::string text = slurp(it->path());
    if (it->path().extension() == ".json") {
      EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << it->path();
    } else if (it->path().extension() == ".jsonl") {
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);)
        EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded())
            << it->path() << ": " << line;
    }
  }
}

class FaultKill : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("SLMQ_DATA_DIR", data_dir().c_str(), 1);
    config_ = dir_.path() / "killed.yaml";
    std::ofstream(config_) << "model: {path: " << model() << ", device: cpu}\n"
                           << "quant: {method: gptq, scheme: w4a16, weight: {group_size: 32},\n"
                           << "        calibration: {source: c4, nsamples: 4, seqlen: 64}}\n"
                           << "ppl: {seqlen: 64, limit_windows: 4, kl: true, data_dir: "
                           << test::write_small_wikitext(data_dir(), dir_.path() / "wiki").string()
                           << "}\n"
                           << "eval: {tasks: [arc_easy], limit: 6, batch_tokens: 64}\n";
  }
  std::string run_args(const std::string& out) const {
    return "run " + config_.string() + " --out " + (dir_.path() / out).string();
  }
  test::TempDir dir_;
  fs::path config_;
};

TEST_F(FaultKill, RunKilledInEachPhaseResumesToTheNumbersOfAnUninterruptedRun) {
  const auto ref = run(run_args("ref"));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const nlohmann::json want =
      test::without_volatile(read_json_file(dir_.path() / "ref/killed.json"));
  for (const std::string point : {"load", "quantize", "eval", "ppl", "result"}) {
    SCOPED_TRACE(point);
    const fs::path out = dir_.path() / point;
    kill_at(point, run_args(point), dir_.path());
    expect_no_partial_files(out);
    EXPECT_FALSE(fs::exists(out / "killed.json"));  // nothing was finished
    const auto again = run(run_args(point));
    ASSERT_EQ(again.exit_code, 0) << again.err;
    if (point == "eval" || point == "ppl" || point == "result")  // batches from the journal
      EXPECT_NE(again.err.find("arc_easy: resuming"), std::string::npos) << again.err;
    EXPECT_EQ(test::without_volatile(read_json_file(out / "killed.json")), want);
    expect_no_partial_files(out);
    for (const auto& entry : fs::directory_iterator(out))  // no temporary left behind
      EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(FaultKill, ASecondRunOfTheSameOutputIsRefusedWhileTheFirstRuns) {
  const auto first = run(run_args("out"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string before = slurp(dir_.path() / "out/killed.json");
  // A --force rerun holds the output (paused inside eval) while a second one starts.
  const fs::path err = dir_.path() / "holder.err";
  const std::string command = "exec env SLMQ_FAULT_PAUSE=eval " + std::string(SLMQ_BINARY) + " " +
                              run_args("out") + " --force 2>" + err.string();
  const pid_t holder = ::fork();
  if (holder == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 15000 && slurp(err).find("paused at eval") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto second = run(run_args("out") + " --force");
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("being written by another slmquant process"), std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find((dir_.path() / "out/killed.json").string()), std::string::npos)
      << second.err;
  // Neither the refused run nor the killed one touched the good result (issue 21 defect 1).
  EXPECT_EQ(slurp(dir_.path() / "out/killed.json"), before);
  EXPECT_FALSE(fs::exists(dir_.path() / "out/killed.json.failed"));
}

TEST_F(FaultKill, FullDiskNamesThePathKeepsEarlierResultsAndTheNextRunResumes) {
  const auto first = run(run_args("out"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string before = slurp(dir_.path() / "out/killed.json");
  // The result file itself cannot be written: one line naming it, the old result intact.
  ::setenv("SLMQ_FAULT_FULL_DISK", "out/killed.json", 1);
  const auto full = run(run_args("out") + " --force");
  ::unsetenv("SLMQ_FAULT_FULL_DISK");
  EXPECT_EQ(full.exit_code, 3) << full.err;
  EXPECT_NE(full.err.find("slmquant: data error: cannot write '" +
                          (dir_.path() / "out/killed.json").string() +
                          "': write: No space left on device"),
            std::string::npos)
      << full.err;
  EXPECT_EQ(count_error_lines(full.err), 1) << full.err;
  EXPECT_EQ(slurp(dir_.path() / "out/killed.json"), before);
  expect_no_partial_files(dir_.path() / "out");

  // The eval journal fills the disk in a fresh folder: the run stops naming the journal, and the
  // next run resumes and finishes with the same numbers.
  ::setenv("SLMQ_FAULT_FULL_DISK", "arc_easy.jsonl", 1);
  const auto journal = run(run_args("second"));
  ::unsetenv("SLMQ_FAULT_FULL_DISK");
  EXPECT_EQ(journal.exit_code, 3) << journal.err;
  EXPECT_NE(journal.err.find("arc_easy.jsonl"), std::string::npos) << journal.err;
  expect_no_partial_files(dir_.path() / "second");
  const auto resumed = run(run_args("second"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(test::without_volatile(read_json_file(dir_.path() / "second/killed.json")),
            test::without_volatile(nlohmann::json::parse(before)));
}

TEST(FaultKillCommands, EvalAndQuantizeKilledResumeToTheSameOutputs) {
  test::TempDir dir;
  ::setenv("SLMQ_DATA_DIR", data_dir().c_str(), 1);
  const std::string eval =
      "eval " + model() + " --device cpu --tasks arc_easy --limit 6 --batch-tokens 64 --out ";
  const auto ref = run(eval + (dir.path() / "eval_ref").string());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  kill_at("eval", eval + (dir.path() / "eval").string(), dir.path());
  expect_no_partial_files(dir.path() / "eval");
  const auto again = run(eval + (dir.path() / "eval").string());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("arc_easy: resuming"), std::string::npos) << again.err;
  EXPECT_EQ(test::without_volatile(read_json_file(dir.path() / "eval/result.json")),
            test::without_volatile(read_json_file(dir.path() / "eval_ref/result.json")));
  // lm-eval's table (the timing table after it differs by design).
  EXPECT_EQ(again.out.substr(0, again.out.find("\n\n")), ref.out.substr(0, ref.out.find("\n\n")));

  const std::string quantize = "quantize " + model() +
                               " --method gptq --scheme w4a16 --group-size 32 --calib c4 "
                               "--nsamples 4 --seqlen 64 --out ";
  const auto qref = run(quantize + (dir.path() / "q_ref").string());
  ASSERT_EQ(qref.exit_code, 0) << qref.err;
  for (const std::string point : {"quantize", "export"}) {
    SCOPED_TRACE(point);
    const fs::path out = dir.path() / ("q_" + point);
    kill_at(point, quantize + out.string(), dir.path());
    EXPECT_FALSE(fs::exists(out));  // the checkpoint appears whole or not at all
    const auto q = run(quantize + out.string());
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_TRUE(slurp(out / "model.safetensors") == slurp(dir.path() / "q_ref/model.safetensors"));
    EXPECT_FALSE(fs::exists(dir.path() / ("." + out.filename().string() + ".tmp")));
  }
}

}  // namespace
}  // namespace slmq
