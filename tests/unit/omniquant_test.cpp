// OmniQuant pieces that need no reference implementation: without training, LWC at its init
// (σ(4) on min and max) is round-to-nearest of its flavour with clip_ratio σ(4), bit for bit;
// a non-finite loss stops a block's training and puts back the parameters of the last finite
// loss; the differentiable activation quantizer equals FakeQuantLinear's.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/omniquant/omniquant.h"
#include "slmq/quant/omniquant/ste_quantizer.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using omniquant::Settings;

std::unique_ptr<Model> tiny_model(at::Tensor& inputs, const std::string& name = "omni_llama_gqa",
                                  c10::ScalarType dtype = at::kFloat) {
  const auto dir = test::reference_dir("omniquant") / name;
  auto model = load_model(dir, {.dtype = dtype});
  const at::Tensor ids = SafetensorsFile::open(dir / "calib.safetensors").load("calib_ids");
  c10::AutoGradMode no_grad(false);
  inputs = model->embed(ids);
  return model;
}

QuantSpec weight_spec(QuantFlavour flavour, int bits, bool symmetric, int64_t group) {
  QuantSpec s;
  s.bits = bits;
  s.symmetric = symmetric;
  s.flavour = flavour;
  s.granularity = group > 0 ? Granularity::kPerGroup : Granularity::kPerChannel;
  s.group_size = group;
  return s;
}

TEST(Omniquant, WithoutTrainingLwcIsRoundToNearestClippedBySigmoidOfFour) {
  const double clip = at::sigmoid(at::full({}, 4.0, at::kFloat)).item<double>();
  int checked = 0;
  for (QuantFlavour flavour : {QuantFlavour::kOmniquant, QuantFlavour::kLlmc}) {
    for (bool symmetric : {true, false}) {
      for (int64_t group : {int64_t{0}, int64_t{32}}) {
        for (int bits : {3, 4, 8}) {
          const QuantSpec spec = weight_spec(flavour, bits, symmetric, group);
          SCOPED_TRACE(spec.describe());
          at::Tensor inputs;
          auto model = tiny_model(inputs);
          std::map<std::string, at::Tensor> originals;
          for (const auto& [name, slot] : model->linears())
            if (name != "lm_head")
              originals[name] = dynamic_cast<const DenseLinear&>(**slot).weight().clone();
          Settings s;
          s.options.variant =
              flavour == QuantFlavour::kLlmc ? OmniFlavour::kLlmc : OmniFlavour::kOfficial;
          s.options.epochs = 0;
          s.options.let = false;
          s.scheme.weight = spec;
          s.keep_parameters = true;
          const auto r = omniquant::quantize_blocks(*model, inputs, s);
          QuantSpec rtn = spec;
          rtn.clip_ratio = clip;
          for (size_t i = 0; i < r.blocks.size(); ++i) {
            for (const auto& [name, q] : r.blocks[i].quantized) {
              const QuantizedWeight want =
                  quantize_weight(originals.at(fmt::format("model.layers.{}.{}", i, name)), rtn);
              EXPECT_TRUE(at::equal(q.codes, want.codes)) << name;
              EXPECT_TRUE(at::equal(q.scales, want.scales)) << name;
              EXPECT_TRUE(at::equal(q.zeros, want.zeros)) << name;
              ++checked;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 2 * 2 * 2 * 3 * 2 * 7);
}

TEST(Omniquant, NonFiniteLossRestoresTheLastFiniteParameters) {
  at::Tensor inputs;
  auto model = tiny_model(inputs);
  Settings s;
  s.options.epochs = 2;
  s.options.let = false;  // the act scales would carry the NaN into LET's initial scales
  s.scheme.weight = weight_spec(QuantFlavour::kOmniquant, 3, false, 32);
  s.keep_parameters = true;
  at::Tensor poisoned = inputs.clone();
  poisoned[2].fill_(std::numeric_limits<float>::quiet_NaN());
  const auto r = omniquant::quantize_blocks(*model, poisoned, s);
  const auto& t = r.blocks[0].training;
  ASSERT_TRUE(t.nonfinite.has_value());
  EXPECT_EQ(t.nonfinite->epoch, 0);
  EXPECT_EQ(t.nonfinite->step, 2);
  EXPECT_EQ(t.optimizer_steps, 2);
  EXPECT_TRUE(r.to_json(s)["blocks"][0].contains("nonfinite_loss"));
  // The last finite loss was step 1's, computed with the parameters after one step on row 0.
  at::Tensor first_row;
  auto reference = tiny_model(first_row);
  Settings one = s;
  one.options.epochs = 1;
  const auto want = omniquant::quantize_blocks(*reference, first_row.narrow(0, 0, 1), one);
  for (const auto& [name, p] : want.blocks[0].parameters) {
    EXPECT_TRUE(at::equal(r.blocks[0].parameters.at(name), p)) << name;
  }
}

TEST(Omniquant, ActivationQuantizerEqualsFakeQuantLinears) {
  const at::Tensor x = at::randn({3, 5, 64}, at::TensorOptions().dtype(at::kFloat)) * 3;
  for (QuantFlavour flavour :
       {QuantFlavour::kOmniquant, QuantFlavour::kLlmc, QuantFlavour::kCompressedTensors}) {
    for (bool symmetric : {true, false}) {
      for (int bits : {4, 6, 8}) {
        QuantSpec a;
        a.bits = bits;
        a.symmetric = symmetric;
        a.flavour = flavour;
        a.granularity = Granularity::kPerToken;
        SCOPED_TRACE(a.describe());
        EXPECT_TRUE(at::equal(omniquant::fake_quant_tokens(x, a), fake_quantize_activation(x, a)));
      }
    }
  }
}

}  // namespace
}  // namespace slmq
