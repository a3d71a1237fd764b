// OmniQuant on every family of the tiny-model set (scripts/reference/gen_tiny_models.py): the
// transforms follow each architecture's fold groups (GQA/MQA skip s_out and s_qk, per-head q/k
// norms skip s_qk, MHA gets all four), the Gemma (1 + w) norms and q/k norms, sandwich norms,
// biases, sliding windows and fused projections train and fold, and the quantized model stays
// close to the original (W8A8: logits within a tenth of their spread).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include "slmq/model/model_loader.h"
#include "slmq/quant/omniquant/omniquant.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

struct Family {
  const char* name;
  bool out, qk;  // s_out and s_qk expected
};

TEST(OmniquantArchitectures, EveryFamilyTrainsFoldsAndStaysClose) {
  const Family families[] = {{"llama_tied", false, false},      {"qwen2_bias_tied", false, false},
                             {"mistral_window", false, false},  {"qwen3_qknorm", false, false},
                             {"gemma3_sandwich", false, false}, {"phi3_longrope", true, true}};
  at::manual_seed(0);
  for (const Family& f : families) {
    SCOPED_TRACE(f.name);
    auto model = load_model(test::reference_dir("tiny_models") / f.name, {});
    const at::Tensor ids = at::randint(3, model->config().vocab_size, {3, 12}, at::kLong);
    const at::Tensor before = model->forward(ids, {});
    omniquant::Settings s;
    s.options.epochs = 1;
    s.scheme.weight.bits = 8;
    s.scheme.weight.symmetric = true;
    s.scheme.weight.granularity = Granularity::kPerChannel;
    s.scheme.weight.flavour = QuantFlavour::kOmniquant;
    QuantSpec a;
    a.bits = 8;
    a.symmetric = false;
    a.granularity = Granularity::kPerToken;
    a.flavour = QuantFlavour::kOmniquant;
    s.scheme.activation = a;
    at::Tensor inputs;
    {
      c10::AutoGradMode no_grad(false);
      inputs = model->embed(ids);
    }
    const auto r = omniquant::quantize_blocks(*model, inputs, s);
    const auto plan = r.plan.to_json();
    EXPECT_EQ(!plan["skipped"].contains("s_out"), f.out);
    EXPECT_EQ(!plan["skipped"].contains("s_qk"), f.qk);
    for (const auto& b : r.blocks) {
      ASSERT_EQ(b.training.epoch_loss.size(), 1u);
      EXPECT_TRUE(std::isfinite(b.training.epoch_loss[0]));
      EXPECT_FALSE(b.training.nonfinite.has_value());
    }
    const at::Tensor after = model->forward(ids, {});
    ASSERT_TRUE(after.isfinite().all().item<bool>());
    const double spread = (before.max() - before.min()).item<double>();
    EXPECT_LT((after - before).abs().max().item<double>(), 0.1 * spread);
    EXPECT_FALSE(at::equal(after, before));
  }
}

}  // namespace
}  // namespace slmq
