// `slmquant run` with a `quant:` block: the model is quantized after loading and the result file
// carries what `slmquant report` reads (quant.*, quant_cost.*), matching `slmquant quantize` on
// the same model and settings.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "slmq/io/json_file.h"
#include "slmq/score/run_record.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

TEST(CliRunQuant, QuantBlockQuantizesAndRecordsMethodSchemeAndCost) {
  test::TempDir dir;
  const std::string model = (test::reference_dir("quant_rtn") / "llama_tied").string();
  const auto config = dir.path() / "q.yaml";
  std::ofstream(config) << "model: {path: " << model << ", device: cpu}\n"
                        << "quant: {method: rtn, scheme: w4a16, weight: {group_size: 32}}\n"
                        << "generate: {prompt_ids: [3, 4, 5], max_new_tokens: 4}\n";
  auto r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "res").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto result = read_json_file(dir.path() / "res" / "q.json");
  ASSERT_EQ(result["status"], "ok");
  EXPECT_EQ(result["config"]["quant"]["weight"]["group_size"], 32);
  const auto& q = result["quant"];
  EXPECT_EQ(q["method"], "rtn");
  EXPECT_EQ(q["w_bits"], 4);
  EXPECT_EQ(q["a_bits"], 16);
  EXPECT_EQ(q["group_size"], 32);
  // model.backend auto: every W4A16 g32 linear runs on the CPU integer kernel.
  EXPECT_EQ(result["model"]["summary"]["linears_by_kind"]["cpu_w4a16"], 21);
  EXPECT_EQ(result["backend"]["linears_by_kind"]["cpu_w4a16"], 21);
  const auto& cost = result["quant_cost"];
  EXPECT_GT(cost["wall_time_s"].get<double>(), 0);
  EXPECT_GT(cost["peak_memory_mib"].get<double>(), 0);
  EXPECT_TRUE(cost["phase_seconds"].contains("quantize"));

  // The same numbers as `slmquant quantize` (deterministic RTN).
  auto cli = test::run_cli("quantize " + model + " --scheme w4a16 --group-size 32 --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto report = nlohmann::json::parse(cli.out);
  EXPECT_EQ(q["summary"], report["summary"]);
  EXPECT_EQ(q["config"], report["config"]);

  // The report's reader takes every quant key without an unknown-key warning (the run has no
  // eval tasks yet, which an "ok" record requires; marked failed, it is still read in full).
  nlohmann::json doc = result;
  doc["status"] = "failed";
  const score::RunRecord rec = score::parse_run_record(doc, "q.json");
  EXPECT_EQ(rec.quant.method, "rtn");
  EXPECT_EQ(rec.quant.w_bits, 4);
  EXPECT_TRUE(std::none_of(rec.unknown_keys.begin(), rec.unknown_keys.end(),
                           [](const std::string& k) { return k.rfind("quant", 0) == 0; }))
      << nlohmann::json(rec.unknown_keys).dump();
}

// "No group" has one encoding: granularity per_channel in the config and the result file, and no
// group size anywhere.
TEST(CliRunQuant, PerChannelWeightsRecordNoGroupSize) {
  test::TempDir dir;
  const std::string model = (test::reference_dir("quant_rtn") / "llama_tied").string();
  const auto config = dir.path() / "pc.yaml";
  std::ofstream(config)
      << "model: {path: " << model << ", device: cpu}\n"
      << "quant: {method: rtn, scheme: w4a16, weight: {granularity: per_channel}}\n";
  auto r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "res").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto result = read_json_file(dir.path() / "res" / "pc.json");
  ASSERT_EQ(result["status"], "ok");
  EXPECT_EQ(result["quant"]["granularity"], "per_channel");
  EXPECT_FALSE(result["quant"].contains("group_size"));
  EXPECT_EQ(result["config"]["quant"]["weight"]["granularity"], "per_channel");
  EXPECT_FALSE(result["config"]["quant"]["weight"].contains("group_size"));
  // Files written before the one encoding said -1: read as no group.
  nlohmann::json old = result;
  old["status"] = "failed";
  old["quant"].erase("granularity");
  old["quant"]["group_size"] = -1;
  EXPECT_FALSE(score::parse_run_record(old, "old.json").quant.group_size.has_value());
}

TEST(CliRunQuant, MissingDataFailsBeforeQuantizing) {
  // The WikiText-2 file is read before the model is loaded, so a wrong data folder costs no
  // quantization, and the error names the file.
  test::TempDir dir;
  const std::string model = (test::reference_dir("quant_rtn") / "llama_tied").string();
  const auto empty = dir.path() / "no_data";
  std::filesystem::create_directories(empty);
  for (const std::string block :
       {"ppl: {data_dir: " + empty.string() + "}\n",
        "eval: {tasks: [arc_easy], data_dir: " + empty.string() + "}\n"}) {
    const auto config = dir.path() / "q.yaml";
    std::ofstream(config) << "model: {path: " << model << ", device: cpu}\n"
                          << "quant: {method: rtn, scheme: w4a16, weight: {group_size: 32}}\n"
                          << block;
    auto r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "res").string());
    EXPECT_NE(r.exit_code, 0) << block;
    EXPECT_NE(r.err.find(empty.string()), std::string::npos) << r.err;
    auto result = read_json_file(dir.path() / "res" / "q.json");
    EXPECT_EQ(result["status"], "failed");
    EXPECT_FALSE(result.contains("quant")) << "quantized before reading the data";
  }
}

}  // namespace
}  // namespace slmq
