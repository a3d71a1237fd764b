// The five methods on every family's tiny model (scripts/reference/gen_tiny_models.py), driven only
// by the architecture descriptions:
// - SmoothQuant's smoothing and AWQ's scaling (clip off) are function-preserving transforms, so
//   the smoothed model must give the FP model's logits: this checks every fold group of every
//   family (Gemma-3's (1 + w) norms, Phi-3's split projections, Qwen3's q/k norms) against the
//   model itself, an independent reference.
// - RTN, GPTQ, SmoothQuant, AWQ and OmniQuant (one epoch of LWC + LET) at W4/W8 replace exactly
//   the family's seven linears per layer and keep the model close to FP.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/model/model_loader.h"
#include "slmq/quant/methods/awq.h"
#include "slmq/quant/methods/smoothquant.h"
#include "slmq/quant/quant_method.h"
#include "support/calibration.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

const char* const kFamilies[] = {"llama_tied", "qwen3_qknorm", "gemma3_sandwich", "phi3_longrope"};

// fp32: folding s into a norm and W[:, j]·s_j reorders roundings only (~1e-7 relative per op);
// through three layers the logits (|x| up to ~5) move by well under 1e-4 of their range.
constexpr double kTransformTolerance = 1e-4;

class ArchMethods : public ::testing::TestWithParam<const char*> {
 protected:
  std::unique_ptr<Model> load() const {
    return load_model(test::reference_dir("tiny_models") / GetParam(), {});
  }
  static at::Tensor input_ids() {
    at::manual_seed(17);
    return at::randint(3, 384, {2, 10}, at::TensorOptions().dtype(at::kLong));
  }
  static CalibrationData calibration() {
    at::manual_seed(5);
    return test::calibration_from_ids(
        at::randint(3, 384, {4, 12}, at::TensorOptions().dtype(at::kLong)));
  }
  static at::Tensor logits(const Model& m, const at::Tensor& ids) {
    return m.forward(ids, at::Tensor());
  }
  static double relative_diff(const at::Tensor& a, const at::Tensor& b) {
    return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
  }
};

TEST_P(ArchMethods, SmoothingPreservesTheFunction) {
  auto model = load();
  const at::Tensor ids = input_ids(), before = logits(*model, ids);
  const QuantConfig config = test::parse_quant_yaml("{method: smoothquant, scheme: w8a8}");
  const SmoothingResult r = smooth_model(*model, config, calibration());
  ASSERT_EQ(static_cast<int64_t>(r.layers.size()), model->num_layers());
  EXPECT_EQ(r.layers[0].scales.size(), 2u);  // the input norm and the MLP norm groups
  const double diff = relative_diff(logits(*model, ids), before);
  std::cout << "[arch] " << GetParam() << " smoothquant transform max|dlogit|/max|logit| = " << diff
            << "\n";
  EXPECT_LE(diff, kTransformTolerance);
  // The scales are not all one: the fold really happened.
  EXPECT_GT((r.layers[0].scales.begin()->second - 1).abs().max().item<double>(), 1e-3);
}

TEST_P(ArchMethods, AwqScalingPreservesTheFunction) {
  auto model = load();
  const at::Tensor ids = input_ids(), before = logits(*model, ids);
  const QuantConfig config = test::parse_quant_yaml(
      "{method: awq, scheme: w4a16_asym, weight: {group_size: 16}, awq: {clip: false, n_grid: 4}}");
  const AwqResult r = awq_transform(*model, config, calibration());
  const double diff = relative_diff(logits(*model, ids), before);
  std::cout << "[arch] " << GetParam() << " awq scaling max|dlogit|/max|logit| = " << diff << "\n";
  EXPECT_LE(diff, kTransformTolerance);
  // attn_in, mlp_in, mlp_out, plus v -> o under MHA only.
  const size_t expected = model->config().num_kv_heads == model->config().num_heads ? 4u : 3u;
  EXPECT_EQ(r.layers.at(0).groups.size(), expected);
}

TEST_P(ArchMethods, EveryMethodQuantizesTheSevenLinearsOfEachLayer) {
  for (const char* yaml :
       {"{method: rtn, scheme: w4a16, weight: {group_size: 16}}",
        "{method: gptq, scheme: w4a16, weight: {group_size: 16}}",
        "{method: smoothquant, scheme: w8a8}",
        "{method: awq, scheme: w4a16_asym, weight: {group_size: 16}, awq: {n_grid: 4}}",
        "{method: omniquant, scheme: w4a8, omniquant: {epochs: 1}}"}) {
    auto model = load();
    const at::Tensor ids = input_ids(), before = logits(*model, ids);
    const QuantConfig config = test::parse_quant_yaml(yaml);
    auto method = make_quant_method(config.method);
    ASSERT_EQ(method->unsupported_reason(*model, config), std::nullopt) << yaml;
    const CalibrationData calib = calibration();
    const QuantReport report = method->run(*model, config, &calib);
    ASSERT_EQ(static_cast<int64_t>(report.layers.size()), 7 * model->num_layers()) << yaml;
    for (int64_t i = 0; i < model->num_layers(); ++i) {
      for (const auto& [name, slot] : model->layer(i).linears())
        EXPECT_NE((*slot)->kind(), "dense") << yaml << " layer " << i << " " << name;
    }
    const at::Tensor after = logits(*model, ids);
    ASSERT_TRUE(at::isfinite(after).all().item<bool>()) << yaml;
    // Close to FP but not equal: the quantizers really ran on these weights.
    const double corr =
        at::corrcoef(at::stack({after.flatten(), before.flatten()}))[0][1].item<double>();
    std::cout << "[arch] " << GetParam() << " " << config.method << " logit corr " << corr << "\n";
    EXPECT_GT(corr, 0.9) << yaml;
    EXPECT_GT(relative_diff(after, before), 1e-4) << yaml;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ArchMethods, ::testing::ValuesIn(kFamilies),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace slmq
