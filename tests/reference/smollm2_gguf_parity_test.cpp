// SmolLM2-135M-Instruct loaded from its GGUF against transformers computing on the same
// dequantized weights (scripts/reference/gen_smollm2_logits.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/io/safetensors.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// fp32, 30 layers, 576 wide: the tiny-model argument (same operations, only kernel
// accumulation order differs) holds; logits reach |20|, so 1e-3 is ~1e-4 relative.
constexpr double kFp32Tolerance = 1e-3;

TEST(SmolLM2Gguf, LogitsAndGreedyIdsMatchTransformers) {
  auto ref = SafetensorsFile::open(test::reference_dir("smollm2_logits") / "reference.safetensors");
  auto model = load_model(
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf",
      LoadOptions{c10::kFloat, c10::Device(c10::kCPU)});
  at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
  double diff = test::max_abs_diff_masked(model->forward(ids, mask), ref.load("logits"), mask);
  std::cout << "[parity] smollm2 gguf fp32 max|dlogit| = " << diff << "\n";
  EXPECT_LE(diff, kFp32Tolerance);

  at::Tensor want = ref.load("generated_ids");
  GenerateResult out = greedy_generate(*model, test::unpadded_rows(ids, mask),
                                       {want.size(1), /*stop_at_eos=*/false});
  for (int64_t row = 0; row < want.size(0); ++row) {
    EXPECT_EQ(out.tokens[row], test::to_ids(want[row])) << "row " << row;
  }
}

}  // namespace
}  // namespace slmq
