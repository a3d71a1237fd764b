// `slmquant inspect`'s statistics (calib/model_inspect.h) against numpy on a tiny random Llama
// with outlier norm channels: reference-data/inspect from scripts/reference/gen_inspect.py (torch
// forward pre-hooks + numpy from the header's definitions, padding excluded).
//
// Tolerances: weights are the same fp32 numbers on both sides, so their statistics agree to float
// rounding of the reductions (relative 1e-6; kurtosis in fp64, 1e-9). Activations come from two
// fp32 forwards (transformers and ours agree to ~1e-5 relative per value in the model-parity
// tests): relative 1e-4. Top channel indices must be identical (no near-ties in this data: the
// generator's outlier channels are 3x-10x apart from the rest).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "slmq/calib/model_inspect.h"
#include "slmq/model/model_loader.h"
#include "slmq/report/inspect_charts.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using nlohmann::json;

void expect_rel(double mine, double want, double rel, const std::string& what) {
  EXPECT_NEAR(mine, want, rel * std::max(std::abs(want), 1e-12)) << what;
}

void compare(const ChannelSummary& s, const json& e, double rel, const std::string& what) {
  expect_rel(s.abs_max, e.at("abs_max"), rel, what + " abs_max");
  expect_rel(s.median, e.at("median"), rel, what + " median");
  expect_rel(s.spread, e.at("spread"), 2 * rel, what + " spread");
  EXPECT_EQ(s.outlier_share, e.at("outlier_share").get<double>()) << what;
  ASSERT_EQ(s.top.size(), e.at("top").size()) << what;
  for (size_t i = 0; i < s.top.size(); ++i) {
    EXPECT_EQ(s.top[i].first, e["top"][i][0].get<int64_t>()) << what << " top " << i;
    expect_rel(s.top[i].second, e["top"][i][1], rel, what + " top value");
  }
}

TEST(Inspect, StatisticsMatchNumpyReference) {
  const auto root = test::reference_dir("inspect");
  ASSERT_FALSE(root.empty()) << "no reference-data/inspect: run scripts/reference/gen_inspect.py";
  const json expected = json::parse(std::ifstream(root / "expected.json"));
  const json w = json::parse(std::ifstream(root / "windows.json"));
  CalibrationWindows windows;
  std::vector<int64_t> ids, mask;
  for (const auto& row : w["ids"])
    for (const auto& v : row) ids.push_back(v);
  for (const auto& row : w["mask"])
    for (const auto& v : row) mask.push_back(v);
  const int64_t n = static_cast<int64_t>(w["ids"].size()),
                t = static_cast<int64_t>(w["ids"][0].size());
  windows.ids = at::tensor(ids).reshape({n, t});
  windows.mask = at::tensor(mask).reshape({n, t});

  auto model = load_model(root / "model", {});
  InspectOptions options;
  options.top_k = expected.at("top_k");
  options.outlier_factor = expected.at("outlier_factor");
  options.batch_size = 2;  // two forwards: accumulation across batches is exercised
  const auto stats = inspect_model(*model, &windows, options);
  ASSERT_EQ(stats.size(), expected.at("linears").size());
  for (const auto& e : expected["linears"]) {
    const std::string what =
        std::to_string(e.at("layer").get<int>()) + "/" + e.at("linear").get<std::string>();
    const auto it = std::find_if(stats.begin(), stats.end(), [&](const LinearInspect& l) {
      return l.layer == e["layer"].get<int64_t>() && l.linear == e["linear"].get<std::string>();
    });
    ASSERT_NE(it, stats.end()) << what;
    compare(it->weight, e.at("weight"), 1e-6, what + " weight");
    expect_rel(it->weight_kurtosis, e["weight"].at("kurtosis"), 1e-9, what + " kurtosis");
    ASSERT_TRUE(it->has_activations);
    compare(it->activation, e.at("activation"), 1e-4, what + " activation");
    EXPECT_EQ(it->tokens, e["activation"].at("tokens").get<int64_t>()) << what;
    const json& tm = e["activation"].at("token_max");
    expect_rel(it->token_max_median, tm.at("median"), 1e-4, what + " token max median");
    expect_rel(it->token_max_mean, tm.at("mean"), 1e-4, what + " token max mean");
    expect_rel(it->token_max_max, tm.at("max"), 1e-4, what + " token max max");
  }

  // The charts draw one mark per (layer, pooled channel) and per (layer, linear) point.
  const json j = inspect_to_json(stats, options);
  const auto svgs = report::inspect_svgs(j, &j);
  const std::string& heat = svgs.at("heatmap_activation_self_attn.q_proj_before.svg");
  size_t rects = 0;
  for (size_t p = heat.find("class=\"mark\""); p != std::string::npos;
       p = heat.find("class=\"mark\"", p + 1))
    ++rects;
  EXPECT_EQ(rects, 2u * 64u);  // 2 layers x 64 channels
  EXPECT_TRUE(svgs.count("outliers_activation_after.svg"));
  EXPECT_NE(report::inspect_html(j, nullptr, "t").find("data-chart=\"kurtosis_weight.svg\""),
            std::string::npos);
}

}  // namespace
}  // namespace slmq
