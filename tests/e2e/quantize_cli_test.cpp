// `slmquant quantize` end to end on a tiny model.
#include <gtest/gtest.h>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::string tiny() { return (test::reference_dir("quant_rtn") / "llama_tied").string(); }

TEST(CliQuantize, RtnWritesTheReportWithPerLayerErrorAndCost) {
  test::TempDir dir;
  auto r =
      test::run_cli("quantize " + tiny() + " --method rtn --scheme w4a16 --group-size 32 --out " +
                    (dir.path() / "q").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("int4 sym per_group(32) compressed_tensors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("21 quantized (lm_head full precision)"), std::string::npos) << r.out;
  auto j = read_json_file(dir.path() / "q" / "quantization.json");
  EXPECT_EQ(j["method"], "rtn");
  EXPECT_EQ(j["layers"].size(), 21u);
  EXPECT_EQ(j["layers"][0]["name"], "model.layers.0.self_attn.q_proj");
  const double rel = j["summary"]["mean_relative_error"];
  EXPECT_GT(rel, 0.01);  // 4-bit RTN of Gaussian weights: ~0.1
  EXPECT_LT(rel, 0.5);
  EXPECT_GT(j["cost"]["peak_rss_bytes"].get<int64_t>(), 0);
  EXPECT_TRUE(j["cost"]["phase_seconds"].contains("load"));
  EXPECT_TRUE(j["cost"]["phase_seconds"].contains("quantize"));
  EXPECT_TRUE(j.contains("environment"));
}

TEST(CliQuantize, UnsupportedGroupSizeFailsBeforeQuantizingWithTheNearestValidSize) {
  auto r = test::run_cli("quantize " + tiny() + " --scheme w4a16 --group-size 48");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("nearest group size valid for all layers: 32"), std::string::npos) << r.err;
  auto bad = test::run_cli("quantize " + tiny() + " --scheme w4a3");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("quant.scheme"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace slmq
