// slmquant's rotation folding against llm-compressor's SpinQuantModifier (R1, R2, R4) applied to
// the same tiny Llama model with the same matrices (scripts/reference/gen_llmc_spinquant.py):
// every transformed weight, and both rotated models' logits against the centred model's.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>
#include <utility>

#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/rotate_model.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

// Both fold in fp64 and cast to fp32: the weights differ by fp64 accumulation order before the
// cast, i.e. at most one fp32 ulp (~1e-7 at these magnitudes); the bound is 1e-5.
constexpr double kWeightTolerance = 1e-5;
// Logits relative to the largest |logit|: fp32 forwards of two implementations (ModelParity's
// 1e-4 bound).
constexpr double kLogitTolerance = 1e-4;

double max_abs(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(LlmCompressorSpinQuant, FoldedWeightsAndLogitsMatch) {
  const auto dir = test::reference_dir("llmc_spinquant");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  auto model = load_model(dir / "model", {at::kFloat, c10::Device(c10::kCPU)});
  const at::Tensor r2 = ref.load("r2");
  prepare_for_rotation(*model, /*center_embeddings=*/true);
  rotate_residual(*model, ref.load("r1"));
  rotate_values(*model, std::vector<at::Tensor>(static_cast<size_t>(model->num_layers()), r2));
  rotate_down_proj(*model, /*fp32_online=*/false);
  // Our R4 is the exact Hadamard of the intermediate size: the matrix fed to llm-compressor.
  EXPECT_LE(max_abs(HadamardTransform(160).matrix(), ref.load("r4")), 1e-12);

  double worst = max_abs(model->embed_tokens(), ref.load("model.embed_tokens.weight"));
  int compared = 1;
  for (const auto& [name, linear] : std::as_const(*model).linears()) {
    const auto* dense = dynamic_cast<const DenseLinear*>(&unwrap_online(*linear));
    ASSERT_NE(dense, nullptr) << name;
    const double d = max_abs(dense->weight(), ref.load(name + ".weight"));
    worst = std::max(worst, d);
    ++compared;
    EXPECT_LE(d, kWeightTolerance) << name;
  }
  std::cout << fmt::format("[llmc] {} tensors: max |W - W_llmc| = {:.3g}\n", compared, worst);
  EXPECT_EQ(compared, 1 + 7 * model->num_layers() + 1);

  const at::Tensor ids = ref.load("input_ids");
  const at::Tensor logits = model->forward(ids, at::Tensor());
  const at::Tensor centred = ref.load("logits_centred");
  const double scale = centred.abs().max().item<double>();
  const double ours = max_abs(logits, centred) / scale;
  const double theirs = max_abs(ref.load("logits_rotated"), centred) / scale;
  std::cout << fmt::format(
      "[llmc] rotated vs centred logits (relative): ours {:.3g}, llm-compressor {:.3g}\n", ours,
      theirs);
  EXPECT_LE(ours, kLogitTolerance);
  EXPECT_LE(theirs, kLogitTolerance);
}

}  // namespace
}  // namespace slmq
