// A Llama-3.2-style GGUF whose RoPE scaling is only the rope_freqs tensor (as llama.cpp's converter
// writes it) gives the logits of the HF model with llama3 rope scaling, past the original context
// (scripts/reference/gen_gguf_rope_freqs.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

// fp32, same operations as transformers; the divisors are the llama3 blend inverted, so inverse
// frequencies agree to ~1e-7 relative and logits well within the family parity bound.
constexpr double kFp32Tolerance = 1e-4;

TEST(GgufRopeFreqs, Llama3ScalingFromRopeFreqsMatchesTransformers) {
  const auto dir = test::reference_dir("gguf_rope_freqs");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  auto model = load_model(dir / "model.gguf", LoadOptions{c10::kFloat, c10::Device(c10::kCPU)});
  EXPECT_EQ(model->config().rope.type, "factors");
  at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
  const double diff =
      test::max_abs_diff_masked(model->forward(ids, mask), ref.load("logits"), mask);
  std::cout << "[parity] rope_freqs gguf fp32 max|dlogit| = " << diff << "\n";
  EXPECT_LE(diff, kFp32Tolerance);
}

}  // namespace
}  // namespace slmq
