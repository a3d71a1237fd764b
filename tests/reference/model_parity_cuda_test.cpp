// The CUDA path against the same transformers references as the CPU tests. Skips, saying why,
// where torch sees no GPU.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/core/dtype.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// fp32 on GPU: cuBLAS may use TF32 only when allowed (torch's default for matmul is off) and a
// different reduction order than the CPU reference: ~1e-5 on these logits; bound 1e-4 as on CPU.
// bf16: as the CPU bound, a few ulps of logits of magnitude 2-4.
constexpr double kFp32Tolerance = 1e-4;
constexpr double kBf16Tolerance = 0.05;

class ModelParityCuda : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA GPU visible to torch on this machine";
    dir_ = test::reference_dir("tiny_models") / GetParam();
  }
  std::filesystem::path dir_;
};

TEST_P(ModelParityCuda, LogitsAndGreedyIdsMatchTransformers) {
  auto ref = SafetensorsFile::open(dir_ / "reference.safetensors");
  at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
  for (auto [dtype, name, tol] : {std::tuple{c10::kFloat, "logits_float32", kFp32Tolerance},
                                  std::tuple{c10::kBFloat16, "logits_bfloat16", kBf16Tolerance}}) {
    auto model = load_model(dir_, LoadOptions{dtype, c10::Device(c10::kCUDA, 0)});
    at::Tensor logits = model->forward(ids, mask).cpu();
    double diff = test::max_abs_diff_masked(logits, ref.load(name), mask);
    std::cout << "[parity-cuda] " << GetParam() << " " << name << " max|dlogit| = " << diff << "\n";
    EXPECT_LE(diff, tol) << name;
  }
  auto model = load_model(dir_, LoadOptions{c10::kFloat, c10::Device(c10::kCUDA, 0)});
  at::Tensor prompt = ref.load("prompt_ids"), pmask = ref.load("prompt_mask"),
             want = ref.load("generated_ids");
  GenerateResult out =
      greedy_generate(*model, test::unpadded_rows(prompt, pmask), {want.size(1), false});
  for (int64_t row = 0; row < want.size(0); ++row) {
    EXPECT_EQ(out.tokens[row], test::to_ids(want[row]));
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ModelParityCuda,
                         ::testing::Values("llama_tied", "llama3_scaled_sharded", "qwen2_bias_tied",
                                           "mistral_window"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace slmq
