// slmquant's forward, KV-cache decode and greedy generation against HF transformers on tiny
// random models of every supported architecture (scripts/reference/gen_tiny_models.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>

#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "support/temp_dir.h"
#include "support/tensor_compare.h"

namespace slmq {
namespace {

const char* const kCases[] = {"llama_tied",     "llama3_scaled_sharded", "qwen2_bias_tied",
                              "mistral_window", "qwen3_qknorm",          "gemma3_sandwich",
                              "phi3_longrope"};

// Tolerances. fp32: the same operations in the same order as transformers; what remains is the
// order of accumulation inside matmul/SDPA kernels, ~1e-6 on logits of magnitude ~1.
constexpr double kFp32Tolerance = 1e-4;
// bf16 and fp16: both sides round every intermediate, and a different accumulation order inside
// a kernel can flip one rounding, which propagates through the layers. The logits here reach
// |2..4|, where one ulp is 2^-6 = 0.0156 in bf16 and 2^-9 = 0.00195 in fp16. Bounds: about three
// bf16 ulps (0.05) and five fp16 ulps (0.01); measured maxima are 0.023-0.037 and 0.003-0.005.
constexpr double kBf16Tolerance = 0.05;
constexpr double kFp16Tolerance = 0.01;

class ModelParity : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = test::reference_dir("tiny_models") / GetParam();
    ref_ = std::make_unique<SafetensorsFile>(SafetensorsFile::open(dir_ / "reference.safetensors"));
  }
  at::Tensor ref(const std::string& name) const { return ref_->load(name); }
  std::unique_ptr<Model> load(c10::ScalarType dtype) const {
    return load_model(dir_, LoadOptions{dtype, c10::Device(c10::kCPU)});
  }

  double logits_diff(c10::ScalarType dtype, const std::string& ref_name) const {
    auto model = load(dtype);
    at::Tensor mask = ref("attention_mask");
    at::Tensor logits = model->forward(ref("input_ids"), mask);
    EXPECT_EQ(logits.scalar_type(), dtype);
    double diff = test::max_abs_diff_masked(logits, ref(ref_name), mask);
    std::cout << "[parity] " << GetParam() << " " << ref_name << " max|dlogit| = " << diff << "\n";
    return diff;
  }

  // LongRoPE past its original context: a cached decode keeps the prefix's short-factor keys while
  // a full forward uses the long factors throughout, so the reference for the cached decode is the
  // model's own cached forward (logits_kv_decode, gen_tiny_models.py) instead of the full one.
  std::string kv_reference() const {
    for (const auto& c : read_json_file(dir_.parent_path() / "cases.json")) {
      if (c["name"] == GetParam() && !c.value("kv_decode_equals_full_forward", true))
        return "logits_kv_decode";
    }
    return "logits_float32";
  }

  std::filesystem::path dir_;
  std::unique_ptr<SafetensorsFile> ref_;
};

TEST_P(ModelParity, Fp32LogitsMatchTransformers) {
  EXPECT_LE(logits_diff(c10::kFloat, "logits_float32"), kFp32Tolerance);
}

TEST_P(ModelParity, Bf16LogitsMatchTransformers) {
  EXPECT_LE(logits_diff(c10::kBFloat16, "logits_bfloat16"), kBf16Tolerance);
}

TEST_P(ModelParity, Fp16LogitsMatchTransformers) {
  EXPECT_LE(logits_diff(c10::kHalf, "logits_float16"), kFp16Tolerance);
}

// Feeding the batch through the KV cache in pieces (a prefill, then one slot at a time) gives
// the same logits as transformers' single full forward.
TEST_P(ModelParity, KvCacheDecodeMatchesFullForward) {
  auto model = load(c10::kFloat);
  at::Tensor ids = ref("input_ids"), mask = ref("attention_mask");
  const int64_t total = ids.size(1), prefill = total / 2;
  KVCache cache = model->make_cache(ids.size(0), 4);  // small on purpose: exercises growth
  std::vector<at::Tensor> pieces = {
      model->forward(ids.narrow(1, 0, prefill), mask.narrow(1, 0, prefill), &cache)};
  for (int64_t t = prefill; t < total; ++t) {
    pieces.push_back(model->forward(ids.narrow(1, t, 1), mask.narrow(1, t, 1), &cache));
  }
  double diff = test::max_abs_diff_masked(at::cat(pieces, 1), ref(kv_reference()), mask);
  std::cout << "[parity] " << GetParam() << " kv-cache max|dlogit| = " << diff << "\n";
  EXPECT_LE(diff, kFp32Tolerance);
}

TEST_P(ModelParity, GreedyGenerationMatchesTransformers) {
  auto model = load(c10::kFloat);
  at::Tensor prompt = ref("prompt_ids"), mask = ref("prompt_mask"), expected = ref("generated_ids");
  GenerateResult out = greedy_generate(*model, test::unpadded_rows(prompt, mask),
                                       {expected.size(1), /*stop_at_eos=*/false});
  for (int64_t row = 0; row < expected.size(0); ++row) {
    EXPECT_EQ(out.tokens[row], test::to_ids(expected[row])) << "row " << row;
  }
}

// Rows stopped early (as lm-eval's stop strings do) leave the batch; the others still generate
// what transformers generates for the whole batch, and stopped rows hold the pad token after.
TEST_P(ModelParity, RowsStoppedEarlyLeaveTheBatchWithoutChangingTheOthers) {
  auto model = load(c10::kFloat);
  at::Tensor prompt = ref("prompt_ids"), mask = ref("prompt_mask"), expected = ref("generated_ids");
  ASSERT_GE(expected.size(0), 2);
  const std::vector<size_t> stop_after = {3, 9};  // rows 0 and 1; the rest run to the end
  GenerateOptions options{expected.size(1), /*stop_at_eos=*/false, {}, {}};
  options.stop_row = [&](size_t row, const std::vector<int64_t>& tokens) {
    return row < stop_after.size() && tokens.size() == stop_after[row];
  };
  GenerateResult out = greedy_generate(*model, test::unpadded_rows(prompt, mask), options);
  const int64_t pad = model->config().pad_token_id.value_or(
      model->config().eos_token_ids.empty() ? 0 : model->config().eos_token_ids[0]);
  for (int64_t row = 0; row < expected.size(0); ++row) {
    std::vector<int64_t> want = test::to_ids(expected[row]);
    if (static_cast<size_t>(row) < stop_after.size())
      std::fill(want.begin() + static_cast<int64_t>(stop_after[row]), want.end(), pad);
    EXPECT_EQ(out.tokens[row], want) << "row " << row;
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ModelParity, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param); });

TEST(ModelParityCases, GeneratorAndTestCoverTheSameModels) {
  auto cases = read_json_file(test::reference_dir("tiny_models") / "cases.json");
  std::vector<std::string> generated, tested(std::begin(kCases), std::end(kCases));
  for (const auto& c : cases) generated.push_back(c["name"]);
  EXPECT_EQ(generated, tested);
}

}  // namespace
}  // namespace slmq
