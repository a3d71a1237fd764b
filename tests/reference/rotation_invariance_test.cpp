// The first test of every rotation: a rotated but unquantized model computes the same function.
// Tiny random models of every family (scripts/reference/gen_tiny_models.py) are rotated with R1
// (random Hadamard or random orthogonal), R2 or QuaRot's v/o form, R4 and R3, and their fp32
// logits compared with the unrotated model's; Gemma-3 must refuse, naming its residual norms.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/core/error.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/rotation/rotate_model.h"
#include "slmq/quant/rotation/rotation_pipeline.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// Folding in fp64 and casting to fp32 changes each weight by at most half an fp32 ulp; the
// Hadamards run in fp32 (one rounding per butterfly level). Logits of magnitude ~1-4 then move by
// ~1e-6; the bound is 1e-4 relative to the largest |logit|.
constexpr double kRelTolerance = 1e-4;

struct Variant {
  const char* name;
  const char* r1;      // quant.quarot.r1
  const char* values;  // quant.quarot.values
};
constexpr Variant kVariants[] = {{"hadamard_r2", "random_hadamard", "r2"},
                                 {"orthogonal_quarot_vo", "random", "quarot"}};

class RotationInvariance : public ::testing::TestWithParam<const char*> {};

QuantConfig rotation_config(const Variant& v) {
  return test::parse_quant_yaml(
      fmt::format("method: quarot\nscheme: w8a16\nquarot: {{r1: {}, values: {}, r4: true, "
                  "center_embeddings: false, weights: rtn}}\n",
                  v.r1, v.values));
}

TEST_P(RotationInvariance, RotatedModelGivesTheFullPrecisionLogits) {
  const auto dir = test::reference_dir("tiny_models") / GetParam();
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
  int checked = 0;
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    auto model = load_model(dir, {at::kFloat, c10::Device(c10::kCPU)});
    const QuantConfig config = rotation_config(v);
    if (std::string(v.values) == "quarot" && quarot_value_rotation_reason(*model)) {
      std::cout << fmt::format("[rotation] {:<22} {:<22} refused: {}\n", GetParam(), v.name,
                               *quarot_value_rotation_reason(*model));
      continue;
    }
    const at::Tensor fp = model->forward(ids, mask);
    std::vector<std::pair<std::string, double>> phases;
    fold_rotations(*model, config, initial_rotations(*model, rotation_options(config)), phases);
    attach_kv_quantizers(*model, KvQuantConfig{}, QuantFlavour::kQuarot, /*hadamard_qk=*/true);
    const at::Tensor rotated = model->forward(ids, mask);
    const double scale = fp.abs().max().item<double>();
    const double rel = test::max_abs_diff_masked(rotated, fp, mask) / scale;
    std::cout << fmt::format("[rotation] {:<22} {:<22} max|dlogit|/max|logit| = {:.3g}\n",
                             GetParam(), v.name, rel);
    EXPECT_LE(rel, kRelTolerance);
    // The weights really changed (a rotation that did nothing would pass the check above).
    EXPECT_GT((model->embed_tokens() -
               load_model(dir, {at::kFloat, c10::Device(c10::kCPU)})->embed_tokens())
                  .abs()
                  .max()
                  .item<double>(),
              1e-3);
    EXPECT_FALSE(model->config().tie_word_embeddings);
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, RotationInvariance,
                         ::testing::Values("llama_tied", "llama3_scaled_sharded", "qwen2_bias_tied",
                                           "mistral_window", "qwen3_qknorm", "phi3_longrope"));

TEST(RotationRefusal, Gemma3ResidualNormsRefuseNamingThem) {
  const auto dir = test::reference_dir("tiny_models") / "gemma3_sandwich";
  auto model = load_model(dir, {at::kFloat, c10::Device(c10::kCPU)});
  const auto reason = residual_rotation_reason(*model);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("post_attention_layernorm"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("post_feedforward_layernorm"), std::string::npos) << *reason;
  EXPECT_THROW(prepare_for_rotation(*model, false), UnsupportedError);
}

TEST(RotationRefusal, QuarotValueFormNeedsAHadamardHeadCount) {
  // qwen2_bias_tied has 6 heads: no transform of size 6.
  const auto dir = test::reference_dir("tiny_models") / "qwen2_bias_tied";
  auto model = load_model(dir, {at::kFloat, c10::Device(c10::kCPU)});
  const auto reason = quarot_value_rotation_reason(*model);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("6 attention heads"), std::string::npos) << *reason;
  EXPECT_NE(reason->find("values: r2"), std::string::npos) << *reason;
}

// Mean-centring the embedding rows is not an identity for RMSNorm models (QuaRot issue #7):
// the logits move, and the option exists to turn it off.
TEST(RotationRefusal, EmbeddingCentringChangesRmsNormModels) {
  const auto dir = test::reference_dir("tiny_models") / "llama_tied";
  auto model = load_model(dir, {at::kFloat, c10::Device(c10::kCPU)});
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  const at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
  const at::Tensor fp = model->forward(ids, mask);
  prepare_for_rotation(*model, /*center_embeddings=*/true);
  const double rel = test::max_abs_diff_masked(model->forward(ids, mask), fp, mask) /
                     fp.abs().max().item<double>();
  std::cout << fmt::format("[rotation] llama_tied centring: max|dlogit|/max|logit| = {:.3g}\n",
                           rel);
  EXPECT_GT(rel, 1e-3);
}

}  // namespace
}  // namespace slmq
