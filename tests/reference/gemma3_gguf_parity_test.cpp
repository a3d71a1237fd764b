// The bundled Gemma-3-270M (Q4_K_M GGUF) against transformers computing on the weights it
// dequantizes itself (scripts/reference/gen_gemma3_logits.py): logits, greedy continuation, and
// the real tokenizer's ids for the prompts.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "slmq/model/model_tokenizer.h"
#include "slmq/tokenizer/tokenizer.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/gemma-3-270m-q4_k_m.gguf";

// fp32, 18 layers, 640 wide, 262144-entry head: the same operations as transformers, only kernel
// accumulation order differs; logits reach |30|, so 1e-3 is ~3e-5 relative.
constexpr double kFp32Tolerance = 1e-3;

TEST(Gemma3Gguf, LogitsAndGreedyIdsMatchTransformers) {
  const auto dir = test::reference_dir("gemma3_logits");
  auto ref = SafetensorsFile::open(dir / "reference.safetensors");
  auto model = load_model(kModel, LoadOptions{c10::kFloat, c10::Device(c10::kCPU)});
  EXPECT_EQ(model->config().architecture, "Gemma3ForCausalLM");
  at::Tensor ids = ref.load("input_ids"), mask = ref.load("attention_mask");
  double diff = test::max_abs_diff_masked(model->forward(ids, mask), ref.load("logits"), mask);
  std::cout << "[parity] gemma3-270m gguf fp32 max|dlogit| = " << diff << "\n";
  EXPECT_LE(diff, kFp32Tolerance);

  at::Tensor want = ref.load("generated_ids");
  GenerateResult out = greedy_generate(*model, test::unpadded_rows(ids, mask),
                                       {want.size(1), /*stop_at_eos=*/false});
  for (int64_t row = 0; row < want.size(0); ++row)
    EXPECT_EQ(out.tokens[row], test::to_ids(want[row])) << "row " << row;
}

// The base model answers a two-shot capital question with Paris through our tokenizer and greedy
// decoding (its greedy continuation of the bare "The capital of France is" — identical to
// transformers' above — talks around it: "... the capital of the country of France").
TEST(Gemma3Gguf, TwoShotCapitalQuestionIsAnsweredParis) {
  auto model = load_model(kModel, LoadOptions{c10::kFloat, c10::Device(c10::kCPU)});
  const Tokenizer tokenizer = load_model_tokenizer(kModel);
  const auto ids = tokenizer.encode(
      "Q: What is the capital of Germany?\nA: Berlin\nQ: What is the capital of Italy?\nA: Rome\n"
      "Q: What is the capital of France?\nA:",
      true);
  GenerateResult out =
      greedy_generate(*model, {std::vector<int64_t>(ids.begin(), ids.end())}, {3, false});
  const std::vector<int32_t> answer(out.tokens[0].begin(), out.tokens[0].end());
  const std::string text = tokenizer.decode(answer, true);
  EXPECT_EQ(text.rfind(" Paris", 0), 0u) << text;
}

// The GGUF's own tokenizer gives the HF tokenizer's ids for the prompts (the full corpus check is
// in the tokenizer tests).
TEST(Gemma3Gguf, TokenizerFromTheGgufEncodesThePromptsAsHf) {
  const auto prompts = read_json_file(test::reference_dir("gemma3_logits") / "prompts.json");
  const Tokenizer tokenizer = load_model_tokenizer(kModel);
  for (size_t i = 0; i < prompts["texts"].size(); ++i) {
    const auto ids = tokenizer.encode(prompts["texts"][i].get<std::string>(), true);
    EXPECT_EQ(std::vector<int64_t>(ids.begin(), ids.end()),
              prompts["ids"][i].get<std::vector<int64_t>>())
        << i;
  }
}

}  // namespace
}  // namespace slmq
