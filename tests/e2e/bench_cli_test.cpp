// `slmquant bench` and a run config's `profile:` block, end to end on a tiny model: the table,
// the JSON profile blocks with the keys docs/result_schema.md lists, the backend choice, and the
// result file the report reads without unknown keys.
#include <gtest/gtest.h>

#include <fstream>

#include "slmq/io/json_file.h"
#include "slmq/score/run_record.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::string tiny() { return (test::reference_dir("tiny_models") / "llama_tied").string(); }

void expect_profile_block(const nlohmann::json& p, int64_t batch, int64_t reps) {
  EXPECT_EQ(p["batch_size"], batch);
  EXPECT_EQ(p["iterations"], reps);
  EXPECT_EQ(p["repetitions"].size(), static_cast<size_t>(reps));
  EXPECT_EQ(p["repetitions"][0]["itl_ms"].size(), 5u);  // output_tokens − 1 gaps
  for (const char* k : {"prefill_tokens_per_s", "decode_tokens_per_s", "tokens_per_s",
                        "latency_ms_p50", "latency_ms_p99", "ttft_ms_p50", "tpot_ms_p50",
                        "peak_memory_mib", "model_size_mib", "gmacs"})
    EXPECT_GT(p[k].get<double>(), 0) << k;
  EXPECT_EQ(p["memory_kind"], "allocator");
  EXPECT_EQ(p["stats"]["itl_ms"]["n"], 5 * reps);
  EXPECT_LE(p["stats"]["e2e_ms"]["p50"].get<double>(), p["stats"]["e2e_ms"]["max"].get<double>());
  const auto& m = p["memory"];
  EXPECT_NEAR(m["allocator_peak_mib"].get<double>(),
              m["weights_mib"].get<double>() + m["dequantized_cache_mib"].get<double>() +
                  m["kv_cache_mib"].get<double>() + m["workspace_mib"].get<double>(),
              1e-9);
  // 2 · layers · batch · kv heads · (prompt + output) slots · head_dim · 4 bytes.
  EXPECT_NEAR(m["kv_cache_mib"].get<double>(), 2.0 * 3 * batch * 2 * (8 + 6) * 16 * 4 / 1048576,
              1e-12);
  // Energy is measured or null with the reason, never a number without a source.
  if (p["energy_j"].is_null()) {
    EXPECT_TRUE(p["energy"]["unavailable_reason"].is_string());
  } else {
    EXPECT_TRUE(p["energy"]["source"].is_string());
  }
}

TEST(CliBench, WritesAProfileBlockPerBatchAndThreadCount) {
  test::TempDir dir;
  const auto out = dir.path() / "bench.json";
  auto r = test::run_cli("bench " + tiny() + " --pp 8 --tg 6 --reps 3 --warmup 1 --batch 1,2 " +
                         "--threads 1 --json " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| dense |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pp8"), std::string::npos);
  EXPECT_NE(r.out.find("tg6"), std::string::npos);
  auto j = read_json_file(out);
  ASSERT_EQ(j["runs"].size(), 2u);
  expect_profile_block(j["runs"][0], 1, 3);
  expect_profile_block(j["runs"][1], 2, 3);
  EXPECT_EQ(j["runs"][0]["threads"], 1);
}

TEST(CliBench, QuantizesWithRtnAndRunsTheRealBackendsOrSaysWhyNot) {
  auto real = test::run_cli("bench " + tiny() +
                            " --scheme w8a8 --quantize-lm-head --backend real --pp 4 --tg 3 "
                            "--reps 1 --threads 1");
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_NE(real.out.find("cpu_w8a8"), std::string::npos) << real.out;
  auto fake = test::run_cli("bench " + tiny() +
                            " --scheme w4a16 --group-size 32 --backend fake --pp 4 --tg 3 "
                            "--reps 1 --threads 1");
  ASSERT_EQ(fake.exit_code, 0) << fake.err;
  EXPECT_NE(fake.out.find("fake_quant"), std::string::npos) << fake.out;
  // 3-bit weights have no kernel: `real` refuses, naming the layer; `auto` keeps them fake.
  auto none = test::run_cli("bench " + tiny() +
                            " --scheme w3a16 --group-size 32 --backend real --pp 4 --tg 3 "
                            "--reps 1 --threads 1");
  EXPECT_EQ(none.exit_code, 4) << none.err;
  EXPECT_NE(none.err.find("model.layers.0.self_attn.q_proj"), std::string::npos) << none.err;
  auto mixed = test::run_cli("bench " + tiny() +
                             " --scheme w3a16 --group-size 32 --pp 4 --tg 3 --reps 1 --threads 1");
  EXPECT_EQ(mixed.exit_code, 0) << mixed.err;
}

TEST(CliRunProfile, FillsTheResultsProfileBlockThatTheReportReads) {
  test::TempDir dir;
  const auto config = dir.path() / "p.yaml";
  std::ofstream(config) << "model: {path: " << tiny() << ", device: cpu}\n"
                        << "quant: {method: rtn, scheme: w4a16, weight: {group_size: 32}}\n"
                        << "profile: {prompt_tokens: 8, output_tokens: 6, iterations: 2, "
                        << "threads: 1}\n";
  auto r = test::run_cli("run " + config.string() + " --out " + (dir.path() / "res").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto result = read_json_file(dir.path() / "res" / "p.json");
  expect_profile_block(result["profile"], 1, 2);
  EXPECT_EQ(result["backend"]["choice"], "auto");
  EXPECT_EQ(result["backend"]["linears_by_kind"]["cpu_w4a16"], 21);
  EXPECT_EQ(result["profile"]["backends"]["cpu_w4a16"], 21);
  nlohmann::json doc = result;
  doc["status"] = "failed";  // no eval tasks: read in full as a failed row
  const score::RunRecord rec = score::parse_run_record(doc, "p.json");
  EXPECT_GT(*rec.profile.tokens_per_s, 0);
  EXPECT_GT(*rec.profile.ttft_ms_p50, 0);
  EXPECT_TRUE(std::none_of(rec.unknown_keys.begin(), rec.unknown_keys.end(),
                           [](const std::string& k) { return k.rfind("profile", 0) == 0; }))
      << nlohmann::json(rec.unknown_keys).dump();
}

}  // namespace
}  // namespace slmq
