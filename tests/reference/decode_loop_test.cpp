// The tensor-free decode loop against Model::forward (itself checked against transformers in
// model_parity_test.cpp): the same decode steps from the same prefilled caches, on tiny models of
// every architecture the loop runs (a quantized embedding table, left padding, q/k/v bias, llama3
// RoPE, a sliding window shorter than the sequences, Qwen3's q/k norms, Gemma-3's (1 + w) sandwich
// norms, GELU, local RoPE, embedding multiplier and attention scalar) with dense and with real
// integer linears; and SmolLM2's and Gemma-3-270M's greedy tokens both ways.
//
// Tolerances. Dense and W4A16 (float activations): 1e-4 on logits of magnitude ~1..4 (as
// model_parity_test's fp32): both sides run the same fp32 operations on the same weights and
// differ only in summation order inside norms, dot products and the softmax (and a polynomial exp
// within one ulp); measured ~5e-6. W8A8: its per-token activation rounding turns those ~1e-7
// relative differences into whole-step code flips wherever a value sits at a rounding boundary
// (each flip moves a linear's output by one activation step times a weight column), so the same
// computation agrees only to a few such steps: 0.25 (measured 0.03-0.05 over 12 steps of the four
// models). A wrong rotation, mask, window, cache slot or buffer moves logits by O(1).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "slmq/config/config_node.h"
#include "slmq/model/decode_loop.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/backends/backend_choice.h"
#include "slmq/quant/embedding_quant.h"
#include "slmq/quant/quant_method.h"
#include "support/single_thread.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

constexpr double kTolerance = 1e-4;
constexpr double kA8Tolerance = 0.25;

// W4A16 quantizes the embedding table too (shared with a tied head, its own otherwise), so the
// loop's row lookup in a quantized table is checked; W8A8 keeps the float table.
void quantize(Model& model, const std::string& scheme) {
  YAML::Node q;
  q["method"] = "rtn";
  q["scheme"] = scheme;
  q["weight"]["group_size"] = 32;
  q["quantize_lm_head"] = true;
  q["quantize_embedding"] = scheme == "w4a16";
  const QuantConfig config = parse_quant_section(ConfigNode(q, "quant"));
  make_quant_method("rtn")->run(model, config, nullptr);
  quantize_embedding(model, config);
  apply_backend_choice(model, BackendChoice::kReal);
}

// Prefills a left-padded batch of three prompts, then runs the same decode steps through
// Model::forward and through the decode loop on copies of the cache; returns the largest
// logit difference.
double max_step_difference(const Model& model) {
  at::manual_seed(3);
  const int64_t vocab = model.config().vocab_size;
  at::Tensor ids = at::randint(3, vocab, {3, 9}, at::kLong);
  at::Tensor mask = at::ones({3, 9}, at::kLong);
  mask[1].narrow(0, 0, 4).zero_();  // rows of 9, 5 and 7 tokens
  mask[2].narrow(0, 0, 2).zero_();
  KVCache reference = model.make_cache(3, 9);
  model.forward(ids, mask, &reference, true);
  KVCache fast = model.make_cache(3, 9);  // capacity 9: the decode steps make both grow
  model.forward(ids, mask, &fast, true);
  DecodeLoop loop(model);
  double worst = 0;
  for (int step = 0; step < 12; ++step) {
    at::Tensor next = at::randint(3, vocab, {3}, at::kLong);
    at::Tensor want =
        model.forward(next.unsqueeze(1), at::Tensor(), &reference, true).reshape({3, vocab});
    std::vector<int64_t> tokens(next.data_ptr<int64_t>(), next.data_ptr<int64_t>() + 3);
    at::Tensor got = at::from_blob(const_cast<float*>(loop.step(tokens, fast)), {3, vocab});
    worst = std::max(worst, (got - want).abs().max().item<double>());
    EXPECT_EQ(fast.length(), reference.length());
  }
  return worst;
}

class DecodeLoopParity : public ::testing::TestWithParam<const char*> {};

TEST_P(DecodeLoopParity, StepsMatchModelForwardDenseAndQuantized) {
  test::SingleThread one;
  const auto dir = test::reference_dir("tiny_models") / GetParam();
  auto dense = load_model(dir, {});
  ASSERT_EQ(DecodeLoop::unsupported_reason(*dense), std::nullopt);
  const double d = max_step_difference(*dense);
  EXPECT_LE(d, kTolerance) << GetParam() << " dense";
  for (const char* scheme : {"w8a8", "w4a16"}) {
    auto quantized = load_model(dir, {});
    quantize(*quantized, scheme);
    const double q = max_step_difference(*quantized);
    EXPECT_LE(q, std::string(scheme) == "w8a8" ? kA8Tolerance : kTolerance)
        << GetParam() << " " << scheme;
    RecordProperty(std::string("max_diff_") + scheme, std::to_string(q));
  }
  RecordProperty("max_diff_dense", std::to_string(d));
  // An int8 KV cache on both sides: the same stored codes, so the fp32 tolerance.
  auto int8_kv = load_model(dir, {});
  int8_kv->set_kv_storage(KvStorage::kInt8);
  const double i8 = max_step_difference(*int8_kv);
  EXPECT_LE(i8, kTolerance) << GetParam() << " int8 KV cache";
  RecordProperty("max_diff_int8_kv", std::to_string(i8));
}

INSTANTIATE_TEST_SUITE_P(TinyModels, DecodeLoopParity,
                         ::testing::Values("llama_tied", "llama3_scaled_sharded", "qwen2_bias_tied",
                                           "mistral_window", "qwen3_qknorm", "gemma3_sandwich"));

TEST(DecodeLoop, RefusesLongRope) {
  const auto tiny = test::reference_dir("tiny_models");
  auto phi3 = load_model(tiny / "phi3_longrope", {});
  auto reason = DecodeLoop::unsupported_reason(*phi3);
  ASSERT_NE(reason, std::nullopt);
  EXPECT_NE(reason->find("LongRoPE"), std::string::npos) << *reason;
}

TEST(DecodeLoop, RefusesWhatItDoesNotRun) {
  auto bf16 = load_model(test::reference_dir("tiny_models") / "llama_tied",
                         LoadOptions{at::kBFloat16, c10::Device(c10::kCPU)});
  EXPECT_NE(DecodeLoop::unsupported_reason(*bf16), std::nullopt);
}

TEST(DecodeLoop, SmolLM2GreedyTokensAreThoseOfModelForward) {
  test::SingleThread one;
  auto model = load_model(
      std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf", {});
  const std::vector<std::vector<int64_t>> prompts = {{1, 504, 3458, 282, 4649, 314},
                                                     {1, 2000, 30, 7}};
  GenerateOptions options;
  options.max_new_tokens = 24;
  options.stop_at_eos = false;
  options.decode_loop = false;
  const auto want = greedy_generate(*model, prompts, options).tokens;
  options.decode_loop = true;
  EXPECT_EQ(greedy_generate(*model, prompts, options).tokens, want);
}

}  // namespace
}  // namespace slmq
