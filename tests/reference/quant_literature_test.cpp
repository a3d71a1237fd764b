// What the quantization literature leads us to expect, checked on the real SmolLM2-135M-Instruct
// on a small slice (CPU, fp32): W8A8 RTN stays within 1% of the full-precision 'Wiki' token
// perplexity (SmoothQuant, Xiao et al. 2023, Table 4: W8A8 within ~1% for Llama-class models),
// and at 4 bits GPTQ and AWQ beat RTN (GPTQ, Frantar et al. 2023, Table 3; AWQ, Lin et al. 2024,
// Table 4). The reference is the FP model itself; the slice keeps CI time bounded: 8 windows of
// 512 tokens of WikiText-2 test, calibration 8 C4 windows of 512 tokens. Each run goes through
// run_job (quant: and ppl: blocks), so it also checks the block plumbing end to end.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "slmq/config/run_config.h"
#include "slmq/sweep/run_job.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

const std::string kModel =
    (std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        .string();

// Wiki token perplexity of SmolLM2 under the quant: block `quant_yaml` ("" = full precision).
double slice_perplexity(const test::TempDir& dir, const std::string& name,
                        const std::string& quant_yaml) {
  std::string yaml = "model: {path: " + kModel + ", device: cpu, dtype: float32}\n" +
                     "ppl: {seqlen: 512, limit_windows: 8, batch_windows: 4}\n";
  if (!quant_yaml.empty()) yaml += "quant: " + quant_yaml + "\n";
  const RunConfig config = parse_run_config(YAML::Load(yaml), name);
  const RunOutcome out = run_job(config, {.out_dir = dir.path()});
  const double ppl = out.result.at("ppl").at("wiki_token_perplexity").at("ppl").get<double>();
  std::cout << "[literature] " << name << " wiki token ppl (8 x 512) = " << ppl << "\n";
  return ppl;
}

TEST(QuantLiterature, SmolLM2W8A8NearFpAndGptqAwqBeatRtnAt4Bits) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << kModel << " is absent";
  test::TempDir dir;
  const std::string calib = "calibration: {source: c4, nsamples: 8, seqlen: 512}";
  const double fp = slice_perplexity(dir, "fp", "");
  const double w8a8 = slice_perplexity(dir, "w8a8_rtn", "{method: rtn, scheme: w8a8}");
  const std::string w4 = "scheme: w4a16, weight: {group_size: 64}";
  const double rtn = slice_perplexity(dir, "w4_rtn", "{method: rtn, " + w4 + "}");
  const double gptq = slice_perplexity(dir, "w4_gptq", "{method: gptq, " + w4 + ", " + calib + "}");
  const double awq = slice_perplexity(dir, "w4_awq", "{method: awq, " + w4 + ", " + calib + "}");
  EXPECT_LT(std::abs(w8a8 / fp - 1.0), 0.01) << "W8A8 RTN " << w8a8 << " vs FP " << fp;
  EXPECT_GT(rtn, fp) << "4-bit RTN should cost perplexity";
  EXPECT_LT(gptq, rtn) << "GPTQ " << gptq << " vs RTN " << rtn;
  EXPECT_LT(awq, rtn) << "AWQ " << awq << " vs RTN " << rtn;
}

}  // namespace
}  // namespace slmq
