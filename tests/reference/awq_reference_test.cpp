// AWQ against a port of mit-han-lab/llm-awq run_awq (auto_scale_block, apply_scale,
// auto_clip_block, pseudo_quantize_tensor) run through transformers on tiny models with outlier
// channels (scripts/reference/gen_awq.py): a GQA Llama (v -> o scale skipped) and an MHA Qwen2
// with q/k/v bias (v -> o scale applied). Both sides see the same calibration token windows.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>
#include <utility>

#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/methods/awq.h"
#include "support/calibration.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// The captured inputs come from two fp32 forwards that agree to ~1e-6 relative, so the losses,
// scales and clip values agree to that order, far inside the gaps between grid points (the
// reference's best and second-best losses differ by ≥ 6e-4 relative on these models).
constexpr double kScaleRelative = 1e-5;
constexpr double kLossRelative = 1e-4;
constexpr double kClipRelative = 1e-5;
// Quantized weights: identical codes except where a ~1e-6 scale difference moves a value across
// a rounding boundary; allow 0.1% of the weights to differ, by at most one code step.
constexpr double kMaxFlippedFraction = 1e-3;
// Weight-only logits: a handful of one-step code flips moves the logits by ~1e-3; bound 1e-2,
// against a quantization effect > 2.
constexpr double kLogits = 1e-2;

struct Case {
  std::string name;
  QuantConfig config;
};

std::vector<Case> cases() {
  const auto j = read_json_file(test::reference_dir("awq") / "cases.json");
  std::vector<Case> out;
  for (const auto& m : j["models"]) {
    out.push_back({m["name"].get<std::string>(), test::parse_quant_yaml(m["quant"].dump())});
  }
  return out;
}

double max_relative(const at::Tensor& got, const at::Tensor& want) {
  return ((got.to(at::kDouble) - want.to(at::kDouble)).abs() /
          want.to(at::kDouble).abs().clamp_min(1e-30))
      .max()
      .item<double>();
}

TEST(AwqReference, ChosenRatiosScalesAndClipsMatchLlmAwq) {
  int groups = 0, clips = 0;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const auto folder = test::reference_dir("awq") / c.name;
    auto ref = SafetensorsFile::open(folder / "reference.safetensors");
    auto model = load_model(folder, {});
    const AwqResult r =
        awq_transform(*model, c.config, test::calibration_from_ids(ref.load("calib_ids")));
    ASSERT_EQ(static_cast<int64_t>(r.layers.size()), model->num_layers());
    for (size_t i = 0; i < r.layers.size(); ++i) {
      for (const auto& g : r.layers[i].groups) {
        const std::string p = fmt::format("layers.{}.{}.", i, g.name);
        SCOPED_TRACE(p);
        ASSERT_NE(ref.find(p + "ratio_index"), nullptr) << "group not searched by the reference";
        const int64_t want = ref.load(p + "ratio_index").item<int64_t>();
        const double loss_rel =
            max_relative(at::tensor(g.search.losses, at::kDouble), ref.load(p + "losses"));
        const double scale_rel = max_relative(g.search.scales, ref.load(p + "scales"));
        std::cout << fmt::format(
            "[awq] {:<14} {:<22} ratio index {:>2} (reference {:>2}); losses rel diff {:.2g}, "
            "scales {:.2g}\n",
            c.name, p, g.search.best_index, want, loss_rel, scale_rel);
        EXPECT_EQ(g.search.best_index, want);
        EXPECT_LE(loss_rel, kLossRelative);
        EXPECT_LE(scale_rel, kScaleRelative);
        ++groups;
      }
      for (const auto& [name, max_val] : r.layers[i].clips) {
        const std::string key = fmt::format("layers.{}.{}.clip_max", i, name);
        SCOPED_TRACE(key);
        const at::Tensor want = ref.load(key);
        const double rel = max_relative(max_val, want);
        const int64_t differing =
            ((max_val - want).abs() > kClipRelative * want.abs()).sum().item<int64_t>();
        std::cout << fmt::format(
            "[awq] {:<14} {:<34} clip values: {} of {} differ, max rel diff {:.2g}\n", c.name, key,
            differing, want.numel(), rel);
        EXPECT_EQ(differing, 0);
        ++clips;
      }
    }
    // The GQA model has no attn_out group (v_proj 128->64, o_proj 128->128), the MHA one has.
    const bool mha = model->config().num_heads == model->config().num_kv_heads;
    EXPECT_EQ(r.layers.front().groups.size(), mha ? 4u : 3u);
  }
  EXPECT_EQ(groups, 2 * 3 + 2 * 4);
  EXPECT_EQ(clips, 4 * 5);
}

TEST(AwqReference, QuantizedWeightsAndLogitsMatchLlmAwq) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const auto folder = test::reference_dir("awq") / c.name;
    auto ref = SafetensorsFile::open(folder / "reference.safetensors");
    auto model = load_model(folder, {});
    const CalibrationData calib = test::calibration_from_ids(ref.load("calib_ids"));
    QuantReport report = make_quant_method("awq")->run(*model, c.config, &calib);
    EXPECT_EQ(static_cast<int64_t>(report.layers.size()), 7 * model->num_layers());
    int64_t flipped = 0, total = 0;
    double worst = 0;
    for (const auto& [name, linear] : std::as_const(*model).linears()) {
      if (name == "lm_head") continue;
      const auto& q = dynamic_cast<const FakeQuantLinear&>(*linear);
      const at::Tensor want = ref.load(name.substr(std::string("model.").size()) + ".weight_q");
      const at::Tensor diff = (q.dequantized_weight() - want).abs();
      // One code step of each weight's group.
      const at::Tensor step =
          q.weight().scales.repeat_interleave(q.weight().columns_per_group(), 1);
      flipped += (diff > 1e-3 * step).sum().item<int64_t>();
      worst = std::max(worst, (diff / step).max().item<double>());
      total += want.numel();
    }
    const at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
    const at::Tensor want = ref.load("logits_quant");
    const double diff = test::max_abs_diff_masked(model->forward(ids, mask), want, mask);
    const double effect = test::max_abs_diff_masked(ref.load("logits_fp"), want, mask);
    std::cout << fmt::format(
        "[awq] {:<14} quantized weights: {} of {} differ (worst {:.3g} code steps); logits max "
        "diff {:.3g} (tol {:.0e}), quantization effect {:.3g}\n",
        c.name, flipped, total, worst, diff, kLogits, effect);
    EXPECT_LE(static_cast<double>(flipped), kMaxFlippedFraction * static_cast<double>(total));
    EXPECT_LE(worst, 1.0 + 1e-3);
    EXPECT_LE(diff, kLogits);
    EXPECT_GT(effect, 5 * kLogits);
  }
}

}  // namespace
}  // namespace slmq
