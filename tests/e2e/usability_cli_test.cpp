// Small things new users trip over (issue 20): many texts tokenized in one call, the data folder
// found from any working directory, and data files checked before a model is opened.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// Reference: the same texts one call each (the single-text path the tokenizer golden tests check
// against HF tokenizers).
TEST(CliUsability, TokenizeFileEncodesEveryLineOrJsonlRecordInOneCall) {
  test::TempDir tmp;
  const fs::path tok = test::reference_dir("tokenizers") / "smollm2";
  const std::vector<std::string> texts = {"Hello world", "", "Ünïcödé 12345 tokens\tand tabs"};
  std::ofstream(tmp.path() / "texts.txt") << texts[0] << "\n"
                                          << texts[1] << "\n"
                                          << texts[2] << "\n";
  {
    std::ofstream jl(tmp.path() / "texts.jsonl");
    for (const auto& t : texts) jl << nlohmann::json{{"text", t}, {"id", 1}}.dump() << "\n";
  }
  for (const char* file : {"texts.txt", "texts.jsonl"}) {
    auto r = test::run_cli("tokenize " + tok.string() + " --file " + (tmp.path() / file).string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto rows = json_lines(r.out);
    ASSERT_EQ(rows.size(), texts.size()) << file;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].empty()) {
        EXPECT_EQ(rows[i]["ids"], nlohmann::json::array()) << file;
        continue;
      }
      auto one = test::run_cli("tokenize " + tok.string() + " '" + texts[i] + "' --json");
      ASSERT_EQ(one.exit_code, 0) << one.err;
      EXPECT_EQ(rows[i]["ids"], nlohmann::json::parse(one.out)["ids"]) << file << " line " << i;
    }
  }
  std::ofstream(tmp.path() / "bad.jsonl") << "{\"text\": \"ok\"}\n{\"body\": 1}\n";
  auto bad =
      test::run_cli("tokenize " + tok.string() + " --file " + (tmp.path() / "bad.jsonl").string());
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("bad.jsonl:2"), std::string::npos) << bad.err;
}

int run_in(const fs::path& cwd, const std::string& env, const std::string& args, std::string* out) {
  const fs::path capture = cwd / "captured.txt";
  const std::string cmd = "cd '" + cwd.string() + "' && env " + env + " " + SLMQ_BINARY + " " +
                          args + " >'" + capture.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(capture);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return WEXITSTATUS(status);
}

TEST(CliUsability, DataFolderIsFoundFromAnyWorkingDirectory) {
  test::TempDir tmp;
  std::string out;
  ASSERT_EQ(run_in(tmp.path(), "-u SLMQ_DATA_DIR", "version", &out), 0) << out;
  const auto at = out.find("\ndata ");
  ASSERT_NE(at, std::string::npos) << out;
  std::string dir = out.substr(at + 6);
  dir = dir.substr(0, dir.find('\n'));
  // The build tree lives in the checkout, whose data folder is assets/data.
  EXPECT_TRUE(fs::equivalent(dir, fs::path(SLMQ_SOURCE_DIR) / "assets/data")) << dir;
  ASSERT_EQ(run_in(tmp.path(), "SLMQ_DATA_DIR=/elsewhere", "version", &out), 0) << out;
  EXPECT_NE(out.find("\ndata /elsewhere\n"), std::string::npos) << out;
}

// The model path does not exist: a command that opened it first would fail on it (exit 3 naming
// the model); the data check must come first and name the data file.
TEST(CliUsability, EveryCommandChecksItsDataBeforeTheModel) {
  test::TempDir tmp;
  const std::string env = "SLMQ_DATA_DIR=" + (tmp.path() / "empty").string();
  const std::string model = (tmp.path() / "no-such-model").string();
  struct Case {
    std::string args, names;
  };
  for (const Case& c : {Case{"eval " + model + " --tasks arc_easy", "arc"},
                        Case{"eval " + model + " --tasks mmlu_stem --limit 1", "mmlu"},
                        Case{"ppl " + model, "wiki"},
                        Case{"quantize " + model + " --method gptq --calib c4", "c4"}}) {
    std::string out;
    EXPECT_EQ(run_in(tmp.path(), env, c.args, &out), 3) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.names), std::string::npos) << c.args << "\n" << out;
    EXPECT_EQ(out.find("no-such-model"), std::string::npos) << c.args << "\n" << out;
  }
}

}  // namespace
}  // namespace slmq
