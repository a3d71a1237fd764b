// `slmquant convert` on the bundled SmolLM2 GGUF: transformers loads the folder it writes and
// computes the logits that transformers computes from the GGUF itself.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

TEST(CliConvert, TransformersLoadsTheFolderWithTheSameLogits) {
  test::TempDir dir;
  auto gguf =
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  auto out = dir.path() / "smollm2-hf";
  auto r = test::run_cli("convert " + gguf.string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f :
       {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  }
  auto reference = test::reference_dir("smollm2_logits") / "reference.safetensors";
  auto logits_path = dir.path() / "logits.safetensors";
  std::string cmd = std::string(SLMQ_PYTHON_EXE) + " " + SLMQ_SOURCE_DIR +
                    "/scripts/check/hf_logits.py " + out.string() + " " + reference.string() + " " +
                    logits_path.string() + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto ref = SafetensorsFile::open(reference);
  double diff = test::max_abs_diff_masked(SafetensorsFile::open(logits_path).load("logits"),
                                          ref.load("logits"), ref.load("attention_mask"));
  std::cout << "[convert] transformers on converted folder vs on GGUF: max|dlogit| = " << diff
            << "\n";
  // The same fp32 weights in the same transformers code: expect exact equality; allow 1e-4
  // for threading-dependent reduction order.
  EXPECT_LE(diff, 1e-4);

  auto again = test::run_cli("convert " + gguf.string() + " --out " + out.string());
  EXPECT_EQ(again.exit_code, 3) << "an existing non-empty folder must not be overwritten";
}

}  // namespace
}  // namespace slmq
