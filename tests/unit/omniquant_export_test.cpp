// OmniQuant results as compressed-tensors checkpoints: weight-only (official variant, int4
// asymmetric groups) and W8A8 (LLMC variant, compressed-tensors activations, which a checkpoint
// can state) load back with bit-identical logits, and the stored scales are the learned ones —
// LWC's clipping lives in them, not in the codes. The official variant's Q/K/V quantizers have
// no place in the format: exporting such a model is refused.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/core/error.h"
#include "slmq/export/compressed_tensors.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/quant_method.h"
#include "support/calibration.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

const char* kModel = "omni_llama_gqa";

struct Quantized {
  ModelSource source;
  std::unique_ptr<Model> model;
  at::Tensor original_q;  // layer 0's q_proj weight before quantization
};

Quantized quantize(const std::string& quant) {
  const auto dir = test::reference_dir("omniquant") / kModel;
  Quantized q{open_model_source(dir), nullptr, {}};
  q.model = build_model(q.source.config, *q.source.weights, {});
  q.original_q =
      dynamic_cast<const DenseLinear&>(*q.model->layer(0).linear(LinearRole::kQ)).weight().clone();
  const QuantConfig config = test::parse_quant_yaml(quant);
  const CalibrationData calib = test::calibration_from_ids(
      SafetensorsFile::open(dir / "calib.safetensors").load("calib_ids"));
  make_quant_method("omniquant")->run(*q.model, config, &calib);
  return q;
}

TEST(OmniquantExport, CheckpointsReloadWithIdenticalLogitsAndLearnedScales) {
  test::TempDir dir;
  at::manual_seed(0);
  const at::Tensor ids = at::randint(3, 384, {2, 16}, at::kLong);
  int n = 0;
  for (const char* quant :
       {"{method: omniquant, scheme: w4a16_asym, weight: {group_size: 32}, omniquant: {epochs: 1}}",
        "{method: omniquant, scheme: w8a8, activation: {flavour: compressed_tensors}, omniquant: "
        "{flavour: llmc, epochs: 1}}"}) {
    SCOPED_TRACE(quant);
    Quantized q = quantize(quant);
    const auto out = dir.path() / std::to_string(n++);
    export_compressed_tensors(*q.model, q.source, out);
    auto loaded = load_any_model(out, {});
    EXPECT_TRUE(at::equal(loaded->forward(ids, {}), q.model->forward(ids, {})));

    const auto& fq =
        dynamic_cast<const FakeQuantLinear&>(*q.model->layer(0).linear(LinearRole::kQ));
    const at::Tensor stored = SafetensorsFile::open(out / "model.safetensors")
                                  .load("model.layers.0.self_attn.q_proj.weight_scale");
    EXPECT_TRUE(at::equal(stored.reshape(fq.weight().scales.sizes()), fq.weight().scales));
    // Plain round-to-nearest of the same weight with the same quantizer has other scales: the
    // trained clipping factors (σ(γ) ≈ 0.98 at init) shrank the ranges (with W8A8, LET also
    // rescaled the columns, so only the difference is certain).
    const QuantizedWeight rtn = quantize_weight(q.original_q, fq.weight().spec);
    EXPECT_FALSE(at::equal(rtn.scales, fq.weight().scales));
    if (!fq.activation()) {
      const double learned = fq.weight().scales.sum().item<double>();
      EXPECT_LT(learned, rtn.scales.sum().item<double>());
    }
  }
}

TEST(OmniquantExport, QkvQuantizersAreRefused) {
  test::TempDir dir;
  Quantized q = quantize(
      "{method: omniquant, scheme: w8a8, activation: {flavour: compressed_tensors}, omniquant: "
      "{epochs: 0}}");
  ASSERT_NE(q.model->layer(0).attention_transform(), nullptr);
  EXPECT_THROW(export_compressed_tensors(*q.model, q.source, dir.path() / "out"), UnsupportedError);
}

}  // namespace
}  // namespace slmq
