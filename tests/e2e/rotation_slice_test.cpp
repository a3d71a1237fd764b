// QuaRot against RTN on the real SmolLM2-135M-Instruct (its Q4_1 GGUF dequantized to fp32) and a
// slice of WikiText-2 (4 windows of 512 tokens), as scripts/bench/rotation_smollm2.sh measured them
// (dev box, one thread; docs/quantizers.md has the table): FP 30.96; W4A4KV4 (w4 per channel, a4
// asym per token, KV 4-bit per head) RTN 3504.6, QuaRot (R1 + R2 + R3 + R4, RTN weights) 269.4;
// W4A8 per channel RTN 75.66, QuaRot with GPTQ weights (8 × 512 c4 windows) 46.07.
//  - W4A4KV4: rotations make 4-bit activations and KV usable (QuaRot, SpinQuant papers): QuaRot is
//    an order of magnitude better than RTN.
//  - W4A8: QuaRot (its default GPTQ weights) beats RTN. (With RTN weights it does not on this
//    model: 120.38; docs/quantizers.md.)
// ~30 minutes on one thread of the shared 2-core box: the gtest name carries `Slow`.
#include <gtest/gtest.h>

#include <string>

#include "support/smollm2_slice.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

// Wiki token perplexity of SmolLM2 over the first 4 windows after the `quant:` block.
double slice_perplexity(const test::TempDir& dir, const std::string& name,
                        const std::string& quant) {
  return test::smollm2_slice_perplexity(dir, name, quant, 4);
}

TEST(RotationSmolLM2Slow, QuarotBeatsRtnAtW4A4KV4AndW4A8) {
  test::TempDir dir;
  const std::string w4a4kv4 =
      "scheme: w4a4, weight: {granularity: per_channel}, activation: {symmetric: false}, "
      "kv: {k_bits: 4, v_bits: 4, group_size: 64}";
  const std::string w4a8 = "scheme: w4a8, weight: {granularity: per_channel}";
  const std::string quarot = "method: quarot, quarot: {values: r2, weights: rtn}, ";
  const double rtn_a4 = slice_perplexity(dir, "w4a4kv4_rtn", "{method: rtn, " + w4a4kv4 + "}");
  const double quarot_a4 = slice_perplexity(dir, "w4a4kv4_quarot", "{" + quarot + w4a4kv4 + "}");
  const double rtn_a8 = slice_perplexity(dir, "w4a8_rtn", "{method: rtn, " + w4a8 + "}");
  const double quarot_a8 = slice_perplexity(
      dir, "w4a8_quarot_gptq",
      "{method: quarot, quarot: {values: r2, weights: gptq}, calibration: {data_dir: " +
          test::bundled_data_dir() + ", nsamples: 8, seqlen: 512, seed: 1}, " + w4a8 + "}");
  EXPECT_LT(quarot_a4, 0.2 * rtn_a4);
  EXPECT_LT(quarot_a8, 0.8 * rtn_a8);
}

}  // namespace
}  // namespace slmq
