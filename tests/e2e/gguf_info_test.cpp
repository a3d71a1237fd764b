// `slmquant gguf-info` as a user runs it: the table on a real file, one error line and exit code
// 3 (data error) on a corrupt one.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/gguf_builder.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

struct Run {
  int exit_code;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Run run_cli(const std::string& args, const test::TempDir& dir) {
  const auto out = dir.path() / "stdout", err = dir.path() / "stderr";
  const std::string cmd =
      std::string(SLMQ_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  return {WEXITSTATUS(status), slurp(out), slurp(err)};
}

TEST(GgufInfoCli, PrintsMetadataAndTensorTable) {
  const auto model =
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  ASSERT_TRUE(std::filesystem::exists(model)) << model << ": run scripts/setup.sh";
  test::TempDir dir;
  const auto r =
      run_cli("gguf-info " + model.string() + " --hf-json " + (dir.path() / "hf").string(), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tokenizer.ggml.pre"), std::string::npos);
  EXPECT_NE(r.out.find("tensors (272,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model.layers.0.self_attn.q_proj.weight"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "hf" / "tokenizer.json"));
  EXPECT_NE(slurp(dir.path() / "hf" / "config.json").find("\"num_key_value_heads\": 3"),
            std::string::npos);
}

TEST(GgufInfoCli, CorruptFileIsOneLineAndExitCodeThree) {
  test::TempDir dir;
  test::GgufSpec spec;
  spec.tensors[1].type = 99;
  const auto path = dir.path() / "bad.gguf";
  const std::string bytes = spec.bytes();
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const auto r = run_cli("gguf-info " + path.string(), dir);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "slmquant: data error: GGUF '" + path.string() +
                       "': tensor 'b': unknown ggml type 99\n");
}

}  // namespace
}  // namespace slmq
