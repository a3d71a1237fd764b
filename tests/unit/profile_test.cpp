// The measurement pieces of the inference profile: statistics against numpy's values, the
// allocator tracker, the powercap energy source on a fake sysfs tree, analytic MACs against a
// hand count, and the result-file and run-config keys.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "slmq/config/run_config.h"
#include "slmq/core/error.h"
#include "slmq/model/model.h"
#include "slmq/model/model_loader.h"
#include "slmq/profile/energy.h"
#include "slmq/profile/macs.h"
#include "slmq/profile/memory_tracker.h"
#include "slmq/profile/sample_stats.h"
#include "slmq/score/run_record.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

TEST(SampleStats, MatchNumpyPercentilesAndTheSampleStddev) {
  // numpy: np.percentile([1, 2, 3, 4, 10], [50, 95, 99]) = [3.0, 8.8, 9.76];
  // np.std(..., ddof=1) = 3.5355339059327378.
  SampleStats s = summarize({10, 2, 4, 1, 3});
  EXPECT_EQ(s.n, 5);
  EXPECT_DOUBLE_EQ(s.mean, 4.0);
  EXPECT_NEAR(s.stddev, 3.5355339059327378, 1e-12);
  EXPECT_DOUBLE_EQ(s.p50, 3.0);
  EXPECT_NEAR(s.p95, 8.8, 1e-12);
  EXPECT_NEAR(s.p99, 9.76, 1e-12);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 10);
  EXPECT_EQ(summarize({7}).stddev, 0.0);
  EXPECT_TRUE(summarize({}).to_json().is_null());
}

TEST(MemoryTracker, CountsLiveAndPeakBytesOfNewTensors) {
  install_memory_tracker();
  ASSERT_TRUE(memory_tracker_installed());
  const int64_t before = tracked_memory().live_bytes;
  reset_tracked_peak();
  {
    at::Tensor a = at::empty({1 << 18}, at::kFloat);  // 1 MiB
    EXPECT_GE(tracked_memory().live_bytes - before, int64_t{1} << 20);
  }
  EXPECT_EQ(tracked_memory().live_bytes, before);
  EXPECT_GE(tracked_memory().peak_bytes - before, int64_t{1} << 20);
  reset_tracked_peak();
  EXPECT_EQ(tracked_memory().peak_bytes, tracked_memory().live_bytes);
  EXPECT_GT(current_rss_bytes(), 0);
  EXPECT_GE(peak_rss_bytes_now(), current_rss_bytes() / 2);
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(EnergySource, SumsPackageZonesAndUnfoldsWrapArounds) {
  test::TempDir dir;
  const auto root = dir.path() / "powercap";
  write(root / "intel-rapl:0/energy_uj", "1000000");
  write(root / "intel-rapl:0/max_energy_range_uj", "5000000");
  write(root / "intel-rapl:0:0/energy_uj", "999");  // a sub-zone of package 0: not counted
  write(root / "intel-rapl:0:0/max_energy_range_uj", "5000000");
  write(root / "intel-rapl:1/energy_uj", "0");
  write(root / "intel-rapl:1/max_energy_range_uj", "5000000");
  EnergyProbe probe = probe_powercap(root);
  ASSERT_NE(probe.source, nullptr) << probe.reason;
  EnergyMeter meter(probe.source.get());
  meter.start();
  write(root / "intel-rapl:0/energy_uj", "500000");   // wrapped: +4.5 J
  write(root / "intel-rapl:1/energy_uj", "2000000");  // +2 J
  EXPECT_NEAR(*meter.stop(), 6.5, 1e-9);
  EXPECT_EQ(probe.source->name(), "rapl:intel-rapl:0+intel-rapl:1");

  EnergyProbe none = probe_powercap(dir.path() / "absent");
  EXPECT_EQ(none.source, nullptr);
  EXPECT_NE(none.reason.find("powercap"), std::string::npos);
  EXPECT_FALSE(EnergyMeter(nullptr).stop());
}

TEST(Macs, CountLinearsAndCausalWindowedAttentionByHand) {
  auto model = load_model(test::reference_dir("tiny_models") / "llama_tied", {});
  // Per token per layer: q 64·64, k and v 64·32, o 64·64, gate/up/down 64·160; three layers;
  // head 64·384 on each row's last position.
  const int64_t per_token = 3 * (4096 + 2048 + 2048 + 4096 + 3 * 10240);
  MacCount prefill = forward_macs(*model, 2, 5, 0, /*last_only=*/true);
  EXPECT_EQ(prefill.linear, 2 * (5 * per_token + 64 * 384));
  // QKᵀ and AV: 2 · rows · layers · heads · head_dim per attended key; keys 1 + 2 + ... + 5.
  EXPECT_EQ(prefill.attention, 2 * 2 * 3 * 4 * 16 * 15);
  EXPECT_EQ(prefill.linear_by_kind.at("dense"), prefill.linear);
  MacCount step = forward_macs(*model, 1, 1, 9, true);
  EXPECT_EQ(step.attention, 2 * 3 * 4 * 16 * 10);
  EXPECT_EQ(forward_macs(*model, 1, 4, 0, false).linear, 4 * (per_token + 64 * 384));

  auto windowed = load_model(test::reference_dir("tiny_models") / "mistral_window", {});
  const auto& c = windowed->config();
  ASSERT_EQ(c.sliding_window.at(0), 5);
  // Queries at positions 0..7 see min(p + 1, 5) keys: 1 + 2 + 3 + 4 + 5 + 5 + 5 + 5 = 30.
  EXPECT_EQ(forward_macs(*windowed, 1, 8, 0, true).attention,
            2 * c.num_layers * c.num_heads * c.head_dim * 30);
}

TEST(RunRecordProfile, BaselineLabelNamesTheDtypeItRanInAndDetailsAreKnownKeys) {
  // No eval tasks: only a failed run may have none, and is still read in full.
  nlohmann::json doc = {{"schema_version", 1},
                        {"status", "failed"},
                        {"model", {{"name", "Tiny"}, {"dtype", "float32"}}},
                        {"quant", {{"method", "none"}}},
                        {"profile",
                         {{"tokens_per_s", 10.0},
                          {"ttft_ms_p50", 5.0},
                          {"tpot_ms_p50", 2.0},
                          {"threads", 1},
                          {"memory", {{"weights_mib", 1.0}}},
                          {"repetitions", nlohmann::json::array()}}}};
  score::RunRecord r = score::parse_run_record(doc, "x.json");
  EXPECT_EQ(r.quant.label, "FP32");
  EXPECT_EQ(r.profile.ttft_ms_p50, 5.0);
  EXPECT_EQ(r.profile.tpot_ms_p50, 2.0);
  EXPECT_TRUE(r.unknown_keys.empty()) << r.unknown_keys.front();
  doc["model"]["dtype"] = "bfloat16";
  EXPECT_EQ(score::parse_run_record(doc, "x.json").quant.label, "BF16");
  doc["model"].erase("dtype");
  EXPECT_EQ(score::parse_run_record(doc, "x.json").quant.label, "FP16");
}

TEST(RunConfigProfile, ParsesTheBlockAndTheBackendChoice) {
  YAML::Node root = YAML::Load(R"(
model: {path: m, backend: fake}
profile: {prompt_tokens: 64, output_tokens: 16, batch_size: 2, iterations: 3, threads: 1}
)");
  RunConfig c = parse_run_config(root, "x");
  EXPECT_EQ(c.model.backend, "fake");
  EXPECT_TRUE(c.profile.enabled);
  EXPECT_EQ(c.profile.prompt_tokens, 64);
  EXPECT_EQ(c.profile.batch_size, 2);
  EXPECT_EQ(c.profile.warmup, 1);
  EXPECT_EQ(c.to_json()["model"]["backend"], "fake");
  // The default backend stays out of the hash, so earlier results remain current.
  RunConfig plain = parse_run_config(YAML::Load("model: {path: m}"), "x");
  EXPECT_FALSE(plain.to_json()["model"].contains("backend"));
  EXPECT_FALSE(plain.profile.enabled);
  auto error = [](const std::string& yaml) {
    try {
      parse_run_config(YAML::Load(yaml), "x");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("model: {path: m, backend: fast}").find("model.backend"), std::string::npos);
  EXPECT_NE(error("model: {path: m}\nprofile: {output_tokens: 1}").find("profile.output_tokens"),
            std::string::npos);
  EXPECT_NE(error("model: {path: m}\nprofile: {iters: 3}").find("profile"), std::string::npos);
}

}  // namespace
}  // namespace slmq
