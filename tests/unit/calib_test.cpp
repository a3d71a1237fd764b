// The calib module on its own: the `calibration:` / `gptq:` config keys, the document rules on a
// toy encoder (one token per character, so expected windows follow from the rule by hand), and
// the block-by-block capture (its last layer's outputs through head() equal Model::forward, its
// statistics equal those of the inputs it shows).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/calib/activation_stats.h"
#include "slmq/calib/layer_capture.h"
#include "slmq/core/error.h"
#include "slmq/model/model.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/gptq_options.h"
#include "slmq/quant/method_registry.h"
#include "slmq/quant/quant_spec.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using test::parse_quant_yaml;
using test::quant_yaml_error;

TEST(CalibrationConfig, DefaultsFollowEachMethodsReference) {
  QuantConfig g = parse_quant_yaml("{method: gptq}");
  EXPECT_EQ(g.calibration.sampling, CalibSampling::kRandomDocuments);
  EXPECT_EQ(g.calibration.nsamples, 128);
  EXPECT_EQ(g.calibration.seqlen, 2048);
  EXPECT_EQ(g.calibration.seed, 0);
  EXPECT_EQ(default_calibration("smoothquant").seqlen, 512);
  EXPECT_EQ(default_calibration("awq").sampling, CalibSampling::kPackedDocuments);
  QuantConfig w = parse_quant_yaml(
      "{method: gptq, calibration: {source: wikitext2, sampling: random_windows, nsamples: 4, "
      "seqlen: 32, propagate: original}, gptq: {act_order: true, static_groups: true, "
      "true_sequential: true, percdamp: 0.1, block_size: 64}}");
  EXPECT_EQ(w.calibration.format, CalibFormat::kWikitext);
  EXPECT_EQ(w.calibration.nsamples, 4);
  EXPECT_FALSE(w.calibration.propagate_quantized);
  EXPECT_TRUE(w.options<GptqOptions>().act_order && w.options<GptqOptions>().static_groups &&
              w.options<GptqOptions>().true_sequential);
  EXPECT_DOUBLE_EQ(w.options<GptqOptions>().percdamp, 0.1);
  EXPECT_EQ(w.options<GptqOptions>().block_size, 64);
  EXPECT_EQ(
      parse_quant_yaml("{method: gptq, calibration: {source: x/my.jsonl}}").calibration.format,
      CalibFormat::kJsonl);
}

TEST(CalibrationConfig, ErrorsNameTheKeyPath) {
  EXPECT_NE(
      quant_yaml_error("{method: gptq, calibration: {seqlen: 0}}").find("quant.calibration.seqlen"),
      std::string::npos);
  EXPECT_NE(quant_yaml_error("{method: gptq, calibration: {sampling: randm_windows}}")
                .find("did you mean 'random_windows'"),
            std::string::npos);
  EXPECT_NE(quant_yaml_error("{method: gptq, calibration: {nsample: 3}}").find("quant.calibration"),
            std::string::npos);
  EXPECT_NE(quant_yaml_error("{method: gptq, gptq: {percdamp: -1}}").find("quant.gptq.percdamp"),
            std::string::npos);
  EXPECT_NE(quant_yaml_error("{method: rtn, gptq: {act_order: true}}").find("quant.gptq"),
            std::string::npos);
  EXPECT_NE(quant_yaml_error("{method: rtn, calibration: {nsamples: 3}}").find("quant.calibration"),
            std::string::npos);
}

// One token per byte: the rules' arithmetic can be checked by hand.
std::vector<int32_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<int64_t> row(const at::Tensor& t, int64_t r) {
  at::Tensor x = t[r].contiguous();
  return {x.data_ptr<int64_t>(), x.data_ptr<int64_t>() + x.numel()};
}

TEST(TokenWindows, PackedDocumentsSkipLongOnesAndCutBlocks) {
  CalibrationConfig c;
  c.sampling = CalibSampling::kPackedDocuments;
  c.shuffle = false;
  c.nsamples = 3;
  c.seqlen = 4;
  c.max_document_tokens = 5;
  // "toolongdoc" (10 tokens) is skipped and "" too; three kept: "ab" "cde" " fg " -> stripped.
  auto w = sample_windows({"ab", "toolongdoc", "", "cde", " fg ", "hij"}, bytes_of, c);
  ASSERT_EQ(w.size(), 1);  // "abcdefg" = 7 tokens -> one block of 4
  EXPECT_EQ(row(w.ids, 0), (std::vector<int64_t>{'a', 'b', 'c', 'd'}));
  EXPECT_FALSE(w.mask.defined());
}

TEST(TokenWindows, TruncatedDocumentsArePaddedAndMasked) {
  CalibrationConfig c;
  c.sampling = CalibSampling::kTruncatedDocuments;
  c.shuffle = false;
  c.nsamples = 2;
  c.seqlen = 3;
  auto w = sample_windows({"abcdef", "x", "unused"}, bytes_of, c);
  ASSERT_EQ(w.size(), 2);
  EXPECT_EQ(row(w.ids, 0), (std::vector<int64_t>{'a', 'b', 'c'}));
  EXPECT_EQ(row(w.mask, 1), (std::vector<int64_t>{1, 0, 0}));
}

TEST(TokenWindows, NoLongEnoughDocumentIsADataError) {
  CalibrationConfig c;
  c.sampling = CalibSampling::kRandomDocuments;
  c.seqlen = 10;
  EXPECT_THROW(sample_windows({"short", "tiny"}, bytes_of, c), DataError);
  // Joined "short\n\ntiny" has 11 tokens: a window of 11 needs 12.
  c.sampling = CalibSampling::kRandomWindows;
  c.seqlen = 11;
  EXPECT_THROW(sample_windows({"short", "tiny"}, bytes_of, c), DataError);
}

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = load_model(test::reference_dir("quant_rtn") / "llama_tied", {});
    windows_.ids = at::randint(0, 300, {5, 12}, at::TensorOptions().dtype(at::kLong));
  }
  std::unique_ptr<Model> model_;
  CalibrationWindows windows_;
};

TEST_F(CaptureTest, PropagatedOutputsEqualTheModelForward) {
  LayerwiseCapture cap(*model_, windows_, {.batch_size = 2});
  for (; !cap.done(); cap.advance()) {
  }
  at::Tensor expected = model_->forward(windows_.ids, at::Tensor());
  // Same kernels on the same rows; batching 2 vs 5 may change BLAS blocking only slightly.
  EXPECT_LT((model_->head(cap.inputs()) - expected).abs().max().item<double>(), 1e-5);
}

TEST_F(CaptureTest, RecorderSeesEveryTokenOfTheWatchedLinears) {
  LayerwiseCapture cap(*model_, windows_, {.batch_size = 2});
  LinearInputRecorder rec(cap.layer(), {"self_attn.q_proj", "mlp.down_proj"}, {.hessian = true});
  cap.run(rec.hook(), rec.names());
  const auto& q = rec.stats("self_attn.q_proj");
  EXPECT_EQ(q.tokens, 5 * 12);
  // q_proj's input is the normalised layer input.
  const auto& w = model_->layer(0).weights();
  at::Tensor x = rms_norm(cap.inputs(), w.norm(NormRole::kAttnIn), model_->layer(0).rms_norm_eps())
                     .reshape({-1, 64});
  EXPECT_TRUE(at::allclose(q.abs_max, std::get<0>(x.abs().max(0)), 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(q.abs_mean(), x.abs().mean(0), 1e-5, 1e-7));
  EXPECT_TRUE(at::allclose(q.min, std::get<0>(x.min(0)), 1e-6, 1e-7));
  // H = 2/N Σ x xᵀ with N = 5 sequences.
  EXPECT_TRUE(at::allclose(rec.hessian("self_attn.q_proj").hessian(), 2.0 / 5 * x.t().matmul(x),
                           1e-4, 1e-5));
  EXPECT_EQ(rec.hessian("mlp.down_proj").hessian().size(0), 160);
  // The layer's backends are back in place.
  EXPECT_EQ(model_->layer(0).linears()[0].second->get()->kind(), "dense");
  EXPECT_EQ(dynamic_cast<RecordingLinear*>(model_->layer(0).linears()[0].second->get()), nullptr);
}

TEST_F(CaptureTest, OriginalPropagationKeepsTheFirstRunsOutputs) {
  LayerwiseCapture cap(*model_, windows_, {.batch_size = 3, .propagate_quantized = false});
  at::Tensor before = cap.outputs();
  cap.run([](const std::string&, const at::Tensor&, const at::Tensor&) {});
  // Change the layer after the run: the next inputs must not see it.
  cap.layer().mutable_weights().norm(NormRole::kMlpIn).mul_(2);
  cap.advance();
  EXPECT_TRUE(at::equal(cap.inputs(), before));
}

TEST_F(CaptureTest, PaddedTokensAreLeftOutOfStatistics) {
  windows_.mask = at::ones({5, 12}, at::kLong);
  windows_.mask.narrow(1, 6, 6).zero_();
  LayerwiseCapture cap(*model_, windows_, {.batch_size = 2});
  LinearInputRecorder rec(cap.layer(), {"self_attn.k_proj"}, {.hessian = true});
  cap.run(rec.hook(), rec.names());
  EXPECT_EQ(rec.stats("self_attn.k_proj").tokens, 30);
  const auto& w = model_->layer(0).weights();
  at::Tensor x =
      rms_norm(cap.inputs().narrow(1, 0, 6), w.norm(NormRole::kAttnIn), 1e-5).reshape({-1, 64});
  EXPECT_TRUE(at::allclose(rec.hessian("self_attn.k_proj").hessian(), 2.0 / 5 * x.t().matmul(x),
                           1e-4, 1e-5));
}

}  // namespace
}  // namespace slmq
