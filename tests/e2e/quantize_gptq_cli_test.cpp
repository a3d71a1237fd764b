// `slmquant quantize --method gptq` end to end on SmolLM2-135M (GGUF, its own tokenizer) with a
// small calibration set, and the settings GPTQ refuses before it starts.
#include <gtest/gtest.h>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::string smollm2() {
  return (std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf")
      .string();
}

std::string c4() {
  return (std::filesystem::path(SLMQ_SOURCE_DIR) /
          "assets/data/calibration/c4/c4_validation_2k.jsonl")
      .string();
}

TEST(CliQuantizeGptq, SmallCalibrationReportsWindowsDampingAndPhases) {
  test::TempDir dir;
  auto r = test::run_cli(
      "quantize " + smollm2() + " --method gptq --scheme w4a16 --group-size 64 --calib " + c4() +
      " --nsamples 2 --seqlen 64 --seed 1 --calib-batch 2 --true-sequential --out " +
      (dir.path() / "q").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("210 quantized (lm_head full precision)"), std::string::npos) << r.out;
  auto j = read_json_file(dir.path() / "q" / "quantization.json");
  EXPECT_EQ(j["method"], "gptq");
  EXPECT_EQ(j["calibration"]["windows"], 2);
  EXPECT_EQ(j["calibration"]["window_tokens"], 64);
  EXPECT_EQ(j["config"]["gptq"]["true_sequential"], true);
  ASSERT_EQ(j["details"]["linears"].size(), 210u);
  EXPECT_GE(j["details"]["linears"][0]["percdamp_used"].get<double>(), 0.01);
  for (const char* phase : {"load", "calibration", "capture", "hessian", "solve"})
    EXPECT_TRUE(j["cost"]["phase_seconds"].contains(phase)) << phase;
  EXPECT_GT(j["cost"]["peak_rss_bytes"].get<int64_t>(), 0);
  const double rel = j["summary"]["mean_relative_error"];
  EXPECT_GT(rel, 0.01);
  EXPECT_LT(rel, 0.5);
}

TEST(CliQuantizeGptq, ActOrderWithDynamicGroupsIsRefusedWithTheNearestSetting) {
  auto r = test::run_cli("quantize " + smollm2() +
                         " --method gptq --scheme w4a16 --group-size 64 --act-order --nsamples 1 "
                         "--seqlen 16");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("static_groups: true"), std::string::npos) << r.err;
  auto lm = test::run_cli("quantize " + smollm2() + " --method gptq --quantize-lm-head");
  EXPECT_EQ(lm.exit_code, 4) << lm.err;
  EXPECT_NE(lm.err.find("lm_head"), std::string::npos) << lm.err;
  auto bad = test::run_cli("quantize " + smollm2() + " --method rtn --nsamples 4");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("quant.calibration"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace slmq
