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
  // One encoding of "no group": a group size is positive; per channel is a granularity.
  for (const char* size : {"0", "-1"}) {
    auto no_group = test::run_cli("quantize " + tiny() + " --scheme w4a16 --group-size " + size);
    EXPECT_EQ(no_group.exit_code, 2) << size;
    EXPECT_NE(no_group.err.find("--granularity per_channel"), std::string::npos) << no_group.err;
  }
  auto per_channel =
      test::run_cli("quantize " + tiny() + " --scheme w4a16 --granularity per_channel");
  EXPECT_EQ(per_channel.exit_code, 0) << per_channel.err;
  EXPECT_NE(per_channel.out.find("int4 sym per_channel compressed_tensors"), std::string::npos)
      << per_channel.out;
}

// --out writes a compressed-tensors checkpoint that slmquant loads back (transformers' side:
// tests/reference/compressed_tensors_load_test.cpp).
TEST(CliQuantize, OutWritesACompressedTensorsCheckpointThatLoadsBack) {
  test::TempDir dir;
  const auto out = dir.path() / "q";
  auto r =
      test::run_cli("quantize " + tiny() + " --scheme w4a16 --group-size 32 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"config.json", "model.safetensors", "quantization.json", "result.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  }
  // The run's result layout, from the same quant block as `slmquant run`.
  const auto result = read_json_file(out / "result.json");
  EXPECT_EQ(result["status"], "ok");
  EXPECT_EQ(result["quant"]["granularity"], "per_group");
  EXPECT_EQ(result["quant"]["group_size"], 32);
  EXPECT_EQ(result["quant"]["summary"], read_json_file(out / "quantization.json")["summary"]);
  auto qc = read_json_file(out / "config.json")["quantization_config"];
  EXPECT_EQ(qc["quant_method"], "compressed-tensors");
  EXPECT_EQ(qc["format"], "pack-quantized");
  EXPECT_EQ(qc["ignore"], nlohmann::json::array({"lm_head"}));  // tied to the embedding
  EXPECT_EQ(qc["config_groups"]["group_0"]["weights"]["group_size"], 32);
  // Loaded with the default --backend auto, the packed weights run on the CPU integer kernels;
  // --backend fake keeps the dequantizing accuracy path.
  auto info = test::run_cli("info " + out.string() + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(nlohmann::json::parse(info.out)["summary"]["linears_by_kind"]["cpu_w4a16"], 21)
      << info.out;
  auto fake = test::run_cli("info " + out.string() + " --backend fake --json");
  ASSERT_EQ(fake.exit_code, 0) << fake.err;
  EXPECT_EQ(nlohmann::json::parse(fake.out)["summary"]["linears_by_kind"]["fake_quant"], 21)
      << fake.out;
  // convert would cast the packed integers like weights: refused.
  auto convert = test::run_cli("convert " + out.string() + " --out " + (dir.path() / "c").string());
  EXPECT_EQ(convert.exit_code, 4) << convert.err;
  EXPECT_NE(convert.err.find("quantized (compressed-tensors) checkpoint"), std::string::npos)
      << convert.err;
}

TEST(CliQuantize, AQuantizerTheFormatCannotHoldFailsAndWritesNothing) {
  test::TempDir dir;
  const auto out = dir.path() / "q";
  // LLMC activation scales (max/127) are not compressed-tensors' (max/127.5).
  auto r =
      test::run_cli("quantize " + tiny() + " --scheme w8a8 --flavour llmc --out " + out.string());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("quant.activation.flavour: compressed_tensors"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ".q.tmp"));
  auto report_only = test::run_cli(
      "quantize " + tiny() + " --scheme w8a8 --flavour llmc --format none --out " + out.string());
  ASSERT_EQ(report_only.exit_code, 0) << report_only.err;
  EXPECT_TRUE(std::filesystem::exists(out / "quantization.json"));
  EXPECT_FALSE(std::filesystem::exists(out / "config.json"));
}

}  // namespace
}  // namespace slmq
