// The smoothquant: and awq: parameter blocks of the quant: section, and what the two methods
// declare unsupported before they start.
#include <gtest/gtest.h>

#include "slmq/core/error.h"
#include "slmq/model/model_loader.h"
#include "slmq/quant/awq_options.h"
#include "slmq/quant/quant_method.h"
#include "slmq/quant/smoothquant_options.h"
#include "support/quant_config.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using test::parse_quant_yaml;
using test::quant_yaml_error;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SmoothQuantAwqConfig, ParametersAndDefaults) {
  QuantConfig sq = parse_quant_yaml("{method: smoothquant, scheme: w8a8}");
  EXPECT_DOUBLE_EQ(sq.options<SmoothQuantOptions>().alpha, 0.5);
  EXPECT_EQ(sq.options<SmoothQuantOptions>().variant, SmoothVariant::kSmoothQuant);
  EXPECT_FALSE(sq.options<SmoothQuantOptions>().quantize_bmm_input);
  EXPECT_EQ(sq.scheme.weight.flavour, QuantFlavour::kLlmc);
  QuantConfig llmcomp = parse_quant_yaml(
      "{method: smoothquant, scheme: w8a8, smoothquant: {alpha: 0.8, variant: llm_compressor, "
      "quantize_bmm_input: true}}");
  EXPECT_DOUBLE_EQ(llmcomp.options<SmoothQuantOptions>().alpha, 0.8);
  EXPECT_TRUE(llmcomp.options<SmoothQuantOptions>().quantize_bmm_input);
  // llm-compressor's own quantizer unless a flavour is given.
  EXPECT_EQ(llmcomp.scheme.weight.flavour, QuantFlavour::kCompressedTensors);
  EXPECT_EQ(llmcomp.scheme.activation->flavour, QuantFlavour::kCompressedTensors);
  EXPECT_EQ(parse_quant_yaml("{method: smoothquant, smoothquant: {variant: llm_compressor}, "
                             "weight: {flavour: llmc}}")
                .scheme.weight.flavour,
            QuantFlavour::kLlmc);
  QuantConfig awq = parse_quant_yaml(
      "{method: awq, scheme: w4a16_asym, weight: {group_size: 64}, awq: {n_grid: 10, "
      "max_shrink: 0.3, clip: false}}");
  EXPECT_EQ(awq.options<AwqOptions>().n_grid, 10);
  EXPECT_DOUBLE_EQ(awq.options<AwqOptions>().max_shrink, 0.3);
  EXPECT_FALSE(awq.options<AwqOptions>().clip);
  EXPECT_TRUE(awq.options<AwqOptions>().scale);
  EXPECT_EQ(awq.scheme.weight.flavour, QuantFlavour::kAwq);
  EXPECT_EQ(awq.to_json()["awq"]["n_grid"], 10);
  EXPECT_EQ(sq.to_json()["smoothquant"]["variant"], "smoothquant");
}

TEST(SmoothQuantAwqConfig, ErrorsNameTheKeyPath) {
  EXPECT_TRUE(has(quant_yaml_error("{method: smoothquant, smoothquant: {alpha: 1.5}}"),
                  "quant.smoothquant.alpha"));
  EXPECT_TRUE(has(quant_yaml_error("{method: smoothquant, smoothquant: {variant: omni}}"),
                  "quant.smoothquant.variant"));
  EXPECT_TRUE(has(quant_yaml_error("{method: smoothquant, smoothquant: {alpah: 0.5}}"),
                  "quant.smoothquant.alpah"));
  EXPECT_TRUE(has(quant_yaml_error("{method: awq, awq: {n_grid: 0}}"), "quant.awq.n_grid"));
  EXPECT_TRUE(
      has(quant_yaml_error("{method: awq, awq: {max_shrink: 1.0}}"), "quant.awq.max_shrink"));
  EXPECT_TRUE(has(quant_yaml_error("{method: rtn, awq: {n_grid: 20}}"), "quant.awq"));
  EXPECT_TRUE(
      has(quant_yaml_error("{method: awq, smoothquant: {alpha: 0.5}}"), "quant.smoothquant"));
}

TEST(SmoothQuantAwqConfig, UnsupportedSettingsAreDeclaredWithTheNearestValidOne) {
  // qwen2_bias_tied: hidden 96, intermediate 160 -> every width divisible by 32, not by 64.
  auto model = load_model(test::reference_dir("tiny_models") / "qwen2_bias_tied", {});
  auto awq = make_quant_method("awq");
  const auto group = awq->unsupported_reason(
      *model, parse_quant_yaml("{method: awq, scheme: w4a16_asym, weight: {group_size: 64}}"));
  ASSERT_TRUE(group);
  EXPECT_TRUE(has(*group, "group size 64 does not divide the 96 input features")) << *group;
  EXPECT_TRUE(has(*group, "nearest group size valid for all layers: 32")) << *group;
  EXPECT_FALSE(awq->unsupported_reason(
      *model, parse_quant_yaml("{method: awq, scheme: w4a16_asym, weight: {group_size: 32}}")));
  const auto per_tensor = awq->unsupported_reason(
      *model, parse_quant_yaml("{method: awq, scheme: w4a16, weight: {granularity: per_tensor}}"));
  ASSERT_TRUE(per_tensor);
  EXPECT_TRUE(has(*per_tensor, "per_channel")) << *per_tensor;
  const auto padded = awq->unsupported_reason(
      *model, parse_quant_yaml("{method: awq, scheme: w4a16_asym, weight: {group_size: 32}, "
                               "calibration: {sampling: truncated_documents}}"));
  ASSERT_TRUE(padded);
  EXPECT_TRUE(has(*padded, "packed_documents")) << *padded;
  const auto propagated = awq->unsupported_reason(
      *model, parse_quant_yaml("{method: awq, scheme: w4a16_asym, weight: {group_size: 32}, "
                               "calibration: {propagate: quantized}}"));
  ASSERT_TRUE(propagated);
  EXPECT_TRUE(has(*propagated, "propagate: original")) << *propagated;
  auto sq = make_quant_method("smoothquant");
  EXPECT_TRUE(sq->unsupported_reason(
      *model, parse_quant_yaml(
                  "{method: smoothquant, scheme: w8a8, calibration: {propagate: quantized}}")));
  const auto w4 =
      sq->unsupported_reason(*model, parse_quant_yaml("{method: smoothquant, scheme: w4a8}"));
  ASSERT_TRUE(w4);  // the preset's group 128 and the llmc flavour's full groups
  EXPECT_TRUE(has(*w4, "group size 128")) << *w4;
  EXPECT_FALSE(
      sq->unsupported_reason(*model, parse_quant_yaml("{method: smoothquant, scheme: w8a8}")));
  EXPECT_THROW(sq->run(*model, parse_quant_yaml("{method: smoothquant, scheme: w4a8}"), nullptr),
               UnsupportedError);
}

}  // namespace
}  // namespace slmq
