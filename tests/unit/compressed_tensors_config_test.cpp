// The quantization_config reader of compressed-tensors checkpoints
// (export/compressed_tensors_config.h): what a hostile config.json does to it. The loads of real
// checkpoints against transformers are in tests/reference/compressed_tensors_load_test.cpp.
#include "slmq/export/compressed_tensors_config.h"

#include <gtest/gtest.h>

#include "slmq/core/error.h"

namespace slmq {
namespace {

nlohmann::json config_with(const nlohmann::json& weights, const nlohmann::json& targets) {
  return {{"quant_method", "compressed-tensors"},
          {"format", "pack-quantized"},
          {"config_groups", {{"group_0", {{"targets", targets}, {"weights", weights}}}}}};
}

const nlohmann::json kW4 = {{"num_bits", 4}, {"strategy", "group"}, {"group_size", 32}};

template <class Error>
std::string error_of(const nlohmann::json& qc) {
  try {
    ct::parse_quantization_config(qc, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "<no error>";
}

TEST(CompressedTensorsConfig, ParsesGroupsTargetsAndSpecs) {
  const auto c = ct::parse_quantization_config(config_with(kW4, {"Linear"}), "cfg.json");
  ASSERT_EQ(c.groups.size(), 1u);
  EXPECT_EQ(c.groups[0].weight.bits, 4);
  EXPECT_EQ(c.groups[0].weight.granularity, Granularity::kPerGroup);
  EXPECT_EQ(c.groups[0].weight.group_size, 32);
  EXPECT_TRUE(c.groups[0].packed);
  EXPECT_EQ(c.groups[0].targets, nlohmann::json({"Linear"}));
  // pydantic's lax int takes 4.0 as 4, and so do we.
  auto w = kW4;
  w["num_bits"] = 4.0;
  EXPECT_EQ(ct::parse_quantization_config(config_with(w, {"Linear"}), "x").groups[0].weight.bits,
            4);
}

// Found reviewing the reader for its fuzz target; each was an internal error (exit 70) of
// `slmquant info` on a checkpoint folder with that config.json: nlohmann's type_error or
// std::regex_error escaped.
TEST(CompressedTensorsConfig, WrongJsonTypesAreDataErrorsNamingTheKey) {
  auto w = kW4;
  w["num_bits"] = "four";
  EXPECT_EQ(error_of<DataError>(config_with(w, {"Linear"})),
            "cfg.json: quantization_config.config_groups.group_0.weights.num_bits must be an "
            "integer");
  w = kW4;
  w["symmetric"] = "yes";
  EXPECT_NE(error_of<DataError>(config_with(w, {"Linear"})).find("weights.symmetric must be true"),
            std::string::npos);
  w = kW4;
  w["num_bits"] = 4294967300u;  // was truncated to int: 4
  EXPECT_NE(error_of<UnsupportedError>(config_with(w, {"Linear"})).find("num_bits 4294967300"),
            std::string::npos);
  auto qc = config_with(kW4, {"Linear"});
  qc["quant_method"] = 7;
  EXPECT_EQ(error_of<DataError>(qc), "cfg.json: quantization_config.quant_method must be a string");
  qc = config_with(kW4, {"Linear"});
  qc["config_groups"]["group_0"] = "Linear";
  EXPECT_EQ(error_of<DataError>(qc),
            "cfg.json: quantization_config.config_groups.group_0 must be a JSON object");
}

TEST(CompressedTensorsConfig, TargetPatternsAreCompiledWhenParsed) {
  EXPECT_NE(error_of<DataError>(config_with(kW4, {"Linear", "re:(unclosed"}))
                .find("group_0.targets: pattern '(unclosed' is not a valid regular expression"),
            std::string::npos);
  auto qc = config_with(kW4, {"Linear"});
  qc["ignore"] = {"re:[z-a]"};
  EXPECT_NE(error_of<DataError>(qc).find("quantization_config.ignore: pattern '[z-a]'"),
            std::string::npos);
  const std::string deep = "re:" + std::string(3000, '(') + std::string(3000, ')');
  EXPECT_NE(error_of<DataError>(config_with(kW4, {deep})).find("re: pattern of 6000 characters"),
            std::string::npos);
  EXPECT_EQ(error_of<DataError>(config_with(kW4, {"re:.*self_attn\\.(q|k|v)_proj$"})),
            "<no error>");
}

}  // namespace
}  // namespace slmq
