// The commands a user runs, end to end, on the tiny reference models.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::filesystem::path tiny(const std::string& name) {
  return test::reference_dir("tiny_models") / name;
}

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

TEST(CliInfo, ReportsArchitectureAndTheParameterCountTransformersReports) {
  auto cases = read_json_file(test::reference_dir("tiny_models") / "cases.json");
  for (const auto& c : cases) {
    std::string name = c["name"];
    SCOPED_TRACE(name);
    auto r = test::run_cli("info " + tiny(name).string() + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["config"]["architecture"], c["architecture"]);
    EXPECT_EQ(j["summary"]["parameters"], c["num_parameters"]);
    EXPECT_EQ(j["summary"]["bytes_by_dtype"]["float32"], c["num_parameters"].get<int64_t>() * 4);
  }
  auto text = test::run_cli("info " + tiny("llama_tied").string());
  EXPECT_NE(text.out.find("tied lm_head   yes"), std::string::npos) << text.out;
}

TEST(CliGenerate, PrintsTheGreedyIdsTransformersGenerates) {
  auto ref = SafetensorsFile::open(tiny("qwen2_bias_tied") / "reference.safetensors");
  at::Tensor prompt =
      ref.load("prompt_ids")[1].masked_select(ref.load("prompt_mask")[1].to(at::kBool));
  at::Tensor want = ref.load("generated_ids")[1];
  std::string ids, expected;
  for (int64_t i = 0; i < prompt.numel(); ++i)
    ids += (i ? "," : "") + std::to_string(prompt[i].item<int64_t>());
  for (int64_t i = 0; i < want.numel(); ++i)
    expected += (i ? "," : "") + std::to_string(want[i].item<int64_t>());
  auto r = test::run_cli("generate " + tiny("qwen2_bias_tied").string() +
                         " --device cpu --ignore-eos --prompt-ids " + ids + " --max-new-tokens " +
                         std::to_string(want.numel()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected + "\n");
  EXPECT_NE(r.err.find("tok/s"), std::string::npos);
}

class CliRun : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = dir_.path() / "exp.yaml";
    std::ofstream(config_)
        << "model: {path: " << tiny("llama_tied").string() << ", device: cpu}\n"
        << "generate: {prompt_ids: [3, 4, 5], max_new_tokens: 6, stop_at_eos: false}\n";
  }
  test::CliResult run(const std::string& extra = "") {
    return test::run_cli("run " + config_.string() + " --out " + (dir_.path() / "res").string() +
                         " " + extra);
  }
  test::TempDir dir_;
  std::filesystem::path config_;
};

TEST_F(CliRun, WritesAStrictJsonResultAndResumes) {
  auto first = run();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto path = dir_.path() / "res" / "exp.json";
  EXPECT_EQ(first.out, path.string() + "\n");
  auto result = read_json_file(path);
  EXPECT_EQ(result["status"], "ok");
  EXPECT_EQ(result["schema_version"], 1);
  EXPECT_EQ(result["generate"]["new_token_ids"].size(), 6u);
  for (const char* key : {"slmquant_commit", "compiler", "torch", "cpu_model", "device"}) {
    EXPECT_TRUE(result["environment"].contains(key)) << key;
  }
  EXPECT_EQ(result["model"]["architecture"], "LlamaForCausalLM");
  EXPECT_EQ(result["model"]["name"], "llama_tied");  // the checkpoint folder's name
  EXPECT_EQ(result["model"]["params"], result["model"]["summary"]["parameters"]);

  auto again = run();
  EXPECT_NE(again.err.find("up to date"), std::string::npos) << again.err;
  EXPECT_EQ(read_json_file(path)["started_at"], result["started_at"]);  // not recomputed

  auto changed = run("--set generate.max_new_tokens=3");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(read_json_file(path)["generate"]["new_token_ids"].size(), 3u);
}

TEST_F(CliRun, BadInputGivesOneLineAndRecordsTheFailure) {
  auto bad_key = run("--set model.dtyp=bf16");
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_EQ(count_lines(bad_key.err), 1) << bad_key.err;
  EXPECT_NE(bad_key.err.find("did you mean 'model.dtype'"), std::string::npos) << bad_key.err;

  auto missing = run("--set model.path=" + (dir_.path() / "nowhere").string());
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_EQ(count_lines(missing.err), 1) << missing.err;
  auto result = read_json_file(dir_.path() / "res" / "exp.json");
  EXPECT_EQ(result["status"], "failed");
  EXPECT_EQ(result["error"]["category"], "data error");
  EXPECT_NE(result["failed_reason"].get<std::string>().find("nowhere"), std::string::npos);
}

TEST(CliErrors, CorruptModelAndBadOptionsFailCleanly) {
  test::TempDir dir;
  std::filesystem::copy(tiny("llama_tied"), dir.path() / "m");
  std::filesystem::resize_file(dir.path() / "m" / "model.safetensors", 100);
  auto r = test::run_cli("info " + (dir.path() / "m").string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("model.safetensors"), std::string::npos) << r.err;

  auto dtype = test::run_cli("info " + tiny("llama_tied").string() + " --dtype int3");
  EXPECT_EQ(dtype.exit_code, 2);
  EXPECT_NE(dtype.err.find("--dtype: 'int3' is not a compute dtype"), std::string::npos)
      << dtype.err;
}

// Issue 21 defect 6: bytes from a file reached the error line raw; a NUL ended it early and a
// newline split it.
TEST(CliErrors, BytesFromTheFileAreEscapedInTheErrorLine) {
  test::TempDir dir;
  std::filesystem::copy(tiny("llama_tied"), dir.path() / "m");
  auto config = read_json_file(dir.path() / "m" / "config.json");
  config["architectures"] = {std::string("Llama\nFor") + '\0' + "Causal\x01\xff" + "LM"};
  // The invalid byte is written as U+FFFD (the JSON file must be UTF-8); the rest as \uXXXX.
  std::ofstream(dir.path() / "m" / "config.json")
      << config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto r = test::run_cli("info " + (dir.path() / "m").string());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'Llama\\nFor\\x00Causal\\x01\xef\xbf\xbdLM'"), std::string::npos) << r.err;
}

// Issue 21 defect 7: "max_length must be at least 2" named neither the key nor where it came from.
TEST(CliErrors, ATooShortContextNamesItsKey) {
  test::TempDir dir;
  std::filesystem::copy(test::reference_dir("token_ppl") / "tiny", dir.path() / "m");
  auto config = read_json_file(dir.path() / "m" / "config.json");
  config["max_position_embeddings"] = 1;
  std::ofstream(dir.path() / "m" / "config.json") << config.dump();
  const std::string data = (std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/data").string();
  auto r = test::run_cli("eval " + (dir.path() / "m").string() +
                         " --device cpu --tasks arc_easy --limit 1 --data-dir " + data);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("max_position_embeddings (1)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace slmq
