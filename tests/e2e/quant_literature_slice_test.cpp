// What the quantization literature leads us to expect, checked with `slmquant run` on the real
// SmolLM2-135M-Instruct (dequantized from its bundled Q4_1 GGUF) and a slice of WikiText-2: 'Wiki'
// token perplexity over the first 8 windows of 512 tokens, each method with a calibration set small
// enough for a nightly run (~10 min on one thread, GPTQ and AWQ most of it: labelled slow, run by
// `scripts/test.sh --slow`). Measured on the dev box
// (one thread): FP 30.64, W8A8 RTN 31.54, W8A8 SmoothQuant 31.29, W4A16 g64 RTN 44.12, GPTQ 42.82,
// AWQ 37.55. The expectations, and where this model departs from them:
//  - W4A16 (groups of 64): GPTQ and AWQ beat RTN (GPTQ, AWQ papers). GPTQ only does here with
//    act-order and static groups (llm-compressor's default; without them it lost to RTN at every
//    calibration tried: H100, whole test split, RTN 31.77, GPTQ 37.66, GPTQ act-order 30.40) and
//    with enough calibration: 64 windows of 512 C4 tokens (16 gave 45.77, worse than RTN).
//  - W8A8 (per-channel weights, per-token dynamic activations): SmoothQuant beats RTN
//    (SmoothQuant paper). The papers' "W8A8 within 1% of FP" is for 7B+ models; SmolLM2-135M loses
//    more (whole test split: RTN +3.3%, SmoothQuant +1.7%; this slice +2.9% / +2.1%), so the
//    bounds below are the measured ones with margin, not 1%.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/smollm2_slice.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

// Wiki token perplexity of SmolLM2 over the first 8 windows after the `quant:` block.
double slice_perplexity(const test::TempDir& dir, const std::string& name,
                        const std::string& quant) {
  return test::smollm2_slice_perplexity(dir, name, quant, 8);
}

TEST(QuantLiteratureSmolLM2Slow, MethodsRankAsThePapersReport) {
  test::TempDir dir;
  const std::string data = "data_dir: " + test::bundled_data_dir();
  const std::string calib = "calibration: {" + data + ", nsamples: 64, seqlen: 512, seed: 1}";
  const double fp = slice_perplexity(dir, "fp32", "");
  std::map<std::string, double> ppl;
  ppl["w8a8_rtn"] = slice_perplexity(dir, "w8a8_rtn", "{method: rtn, scheme: w8a8}");
  ppl["w8a8_smoothquant"] = slice_perplexity(dir, "w8a8_smoothquant",
                                             "{method: smoothquant, scheme: w8a8, calibration: {" +
                                                 data + ", nsamples: 32, seqlen: 512}}");
  ppl["w4a16_rtn"] =
      slice_perplexity(dir, "w4a16_rtn", "{method: rtn, scheme: w4a16, weight: {group_size: 64}}");
  ppl["w4a16_gptq"] = slice_perplexity(
      dir, "w4a16_gptq",
      "{method: gptq, scheme: w4a16, weight: {group_size: 64}, gptq: {act_order: true, "
      "static_groups: true}, " +
          calib + "}");
  ppl["w4a16_awq"] =
      slice_perplexity(dir, "w4a16_awq",
                       "{method: awq, scheme: w4a16, weight: {group_size: 64}, calibration: {" +
                           data + ", nsamples: 8}}");

  EXPECT_LT(ppl["w8a8_smoothquant"], ppl["w8a8_rtn"]);
  EXPECT_LT(ppl["w8a8_smoothquant"], 1.03 * fp);
  EXPECT_LT(ppl["w8a8_rtn"], 1.06 * fp);
  EXPECT_LT(ppl["w4a16_gptq"], ppl["w4a16_rtn"]);
  EXPECT_LT(ppl["w4a16_awq"], ppl["w4a16_rtn"]);
}

}  // namespace
}  // namespace slmq
