// QuaRot and SpinQuant end to end on the tiny models: the methods run (RTN and GPTQ weights,
// activation and KV quantizers, online Hadamards in place), SpinQuant's Stage A keeps R1 and R2
// orthogonal over 100 fp32 Cayley steps while moving them, and the refusals name their reason.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/core/error.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/quant_method.h"
#include "slmq/quant/rotation/hadamard.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/rotate_model.h"
#include "slmq/quant/rotation/rotation_pipeline.h"
#include "slmq/quant/rotation/spinquant_training.h"
#include "support/calibration.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::unique_ptr<Model> tiny(const char* name) {
  return load_model(test::reference_dir("tiny_models") / name,
                    {at::kFloat, c10::Device(c10::kCPU)});
}

at::Tensor windows(int64_t n, int64_t t, uint64_t seed) {
  return at::randint(3, 384, {n, t}, seeded_cpu_generator(seed));
}

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(RotationMethods, QuarotRunsWithOnlineHadamardsAndKv) {
  for (const char* weights : {"rtn", "gptq"}) {
    SCOPED_TRACE(weights);
    auto model = tiny("llama_tied");
    const at::Tensor ids = windows(2, 12, 1);
    const at::Tensor fp = model->forward(ids, at::Tensor());
    const QuantConfig config = test::parse_quant_yaml(
        fmt::format("method: quarot\nscheme: w4a8\nweight: {{granularity: per_channel}}\n"
                    "activation: {{symmetric: false}}\nkv: {{k_bits: 4, v_bits: 4}}\n"
                    "quarot: {{weights: {}}}\n",
                    weights));
    CalibrationData calib = test::calibration_from_ids(windows(4, 16, 2));
    QuantReport report = make_quant_method("quarot")->run(*model, config, &calib);
    EXPECT_EQ(static_cast<int64_t>(report.layers.size()), 7 * model->num_layers());
    const auto& d = report.details["rotation"];
    std::cout << fmt::format("[quarot] {} details {}\n", weights, d.dump());
    EXPECT_EQ(d["online"].size(), 3u);  // down_proj, o_proj across heads, attention (R3 + KV)
    EXPECT_EQ(model->layer(0).linear(LinearRole::kDown)->kind(), "hadamard+fake_quant");
    EXPECT_NE(model->layer(0).attention_transform(), nullptr);
    const at::Tensor q = model->forward(ids, at::Tensor());
    EXPECT_TRUE(q.isfinite().all().item<bool>());
    EXPECT_GT(max_abs(q, fp), 1e-3);
  }
}

TEST(RotationMethods, SpinQuantTrainingKeepsRotationsOrthogonal) {
  auto model = tiny("llama_tied");
  const QuantConfig config = test::parse_quant_yaml(
      "method: spinquant\nscheme: w4a4\nactivation: {symmetric: false}\n"
      "kv: {k_bits: 4, v_bits: 4, group_size: 16}\n"
      "spinquant: {steps: 100, batch_size: 2}\n");
  prepare_for_rotation(*model, true);
  rotate_down_proj(*model, false);
  attach_kv_quantizers(*model, config.kv, QuantFlavour::kQuarot, true);
  const RotationMatrices init = initial_rotations(*model, rotation_options(config));
  CalibrationWindows data;
  data.ids = windows(8, 16, 3);
  const RotationTrainingResult r = train_rotations(*model, config, data, init);
  ASSERT_EQ(r.losses.size(), 100u);
  for (double l : r.losses) ASSERT_TRUE(std::isfinite(l));
  const double r1_err = max_abs(at::matmul(r.rotations.r1.t(), r.rotations.r1),
                                at::eye(r.rotations.r1.size(0), at::kFloat));
  double r2_err = 0;
  for (const auto& r2 : r.rotations.r2)
    r2_err = std::max(r2_err, max_abs(at::matmul(r2.t(), r2), at::eye(r2.size(0), at::kFloat)));
  std::cout << fmt::format(
      "[spinquant] 100 steps: loss {:.4f} -> {:.4f}, |R1ᵀR1 - I| {:.3g}, |R2ᵀR2 - I| {:.3g}, "
      "retractions {}, moved {:.3g}\n",
      r.losses.front(), r.losses.back(), r1_err, r2_err, r.retractions,
      max_abs(r.rotations.r1, init.r1));
  EXPECT_LE(r1_err, 1e-5);
  EXPECT_LE(r2_err, 1e-5);
  EXPECT_GT(max_abs(r.rotations.r1, init.r1), 1e-3);
  // The model's linears are back as they were (dense, unrotated).
  EXPECT_EQ(model->layer(0).linear(LinearRole::kQ)->kind(), "dense");
}

TEST(RotationMethods, SpinQuantMethodRunsEndToEnd) {
  auto model = tiny("qwen3_qknorm");
  const QuantConfig config = test::parse_quant_yaml(
      "method: spinquant\nscheme: w4a8\nweight: {group_size: 16}\n"
      "spinquant: {weights: gptq, steps: 3, batch_size: 2}\n");
  CalibrationData calib = test::calibration_from_ids(windows(4, 16, 4));
  auto training = std::make_shared<CalibrationData>(test::calibration_from_ids(windows(6, 16, 5)));
  calib.training = training;
  QuantReport report = make_quant_method("spinquant")->run(*model, config, &calib);
  EXPECT_EQ(report.details["training"]["steps"], 3);
  EXPECT_EQ(report.details["training"]["losses"].size(), 3u);
  const at::Tensor logits = model->forward(windows(1, 8, 6), at::Tensor());
  EXPECT_TRUE(logits.isfinite().all().item<bool>());
  // o_proj's input is quantized per token and head (SpinQuant's ptq.py), the others per token.
  const auto& o =
      dynamic_cast<const FakeQuantLinear&>(unwrap_online(*model->layer(0).linear(LinearRole::kO)));
  ASSERT_TRUE(o.activation().has_value());
  EXPECT_EQ(o.activation()->group_size, model->config().head_dim);
}

TEST(RotationMethods, RefusalsNameTheirReason) {
  auto gemma = tiny("gemma3_sandwich");
  const QuantConfig quarot = test::parse_quant_yaml("method: quarot\nscheme: w4a8\n");
  auto reason = make_quant_method("quarot")->unsupported_reason(*gemma, quarot);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("post_feedforward_layernorm"), std::string::npos) << *reason;
  auto qwen2 = tiny("qwen2_bias_tied");  // 6 heads
  reason = make_quant_method("quarot")->unsupported_reason(*qwen2, quarot);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("values: r2"), std::string::npos) << *reason;
  const QuantConfig r2 =
      test::parse_quant_yaml("method: quarot\nscheme: w4a8\nquarot: {values: r2}\n");
  EXPECT_FALSE(make_quant_method("quarot")->unsupported_reason(*qwen2, r2).has_value());
  EXPECT_NE(test::quant_yaml_error("method: rtn\nquarot: {r4: false}\n").find("quant.quarot"),
            std::string::npos);
}

}  // namespace
}  // namespace slmq
