#include "slmq/model/model_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "slmq/core/error.h"
#include "slmq/io/safetensors.h"
#include "slmq/model/model_loader.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

nlohmann::json llama() {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"vocab_size", 100},
          {"hidden_size", 64},
          {"intermediate_size", 128},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 2}};
}

TEST(ModelConfig, UnknownArchitectureNamesItAndTheSupportedOnes) {
  auto j = llama();
  j["architectures"] = {"GPTNeoXForCausalLM"};
  try {
    parse_hf_config(j, "cfg.json");
    FAIL();
  } catch (const UnsupportedError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("'GPTNeoXForCausalLM'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM"), std::string::npos)
        << msg;
  }
}

TEST(ModelConfig, ReadsBothRopeSpellings) {
  auto v4 = llama();
  v4["rope_theta"] = 500000.0;
  v4["rope_scaling"] = {{"rope_type", "llama3"},
                        {"factor", 32.0},
                        {"low_freq_factor", 1.0},
                        {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 8192}};
  auto v5 = llama();
  v5["rope_parameters"] = v4["rope_scaling"];
  v5["rope_parameters"]["rope_theta"] = 500000.0;
  for (const auto& j : {v4, v5}) {
    ModelConfig c = parse_hf_config(j, "cfg.json");
    EXPECT_EQ(c.rope.type, "llama3");
    EXPECT_EQ(c.rope.theta, 500000.0);
    EXPECT_EQ(c.rope.factor, 32.0);
    EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  }
}

TEST(ModelConfig, MissingAndMistypedKeysAreDataErrors) {
  auto j = llama();
  j.erase("hidden_size");
  EXPECT_THROW(parse_hf_config(j, "cfg.json"), DataError);
  j = llama();
  j["num_hidden_layers"] = "two";
  try {
    parse_hf_config(j, "cfg.json");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'num_hidden_layers'"), std::string::npos);
  }
  j = llama();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 2.0}};
  EXPECT_THROW(parse_hf_config(j, "cfg.json"), UnsupportedError);
}

TEST(ModelConfig, QwenBiasAndSlidingLayers) {
  auto j = llama();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["model_type"] = "qwen2";
  j["use_sliding_window"] = true;
  j["sliding_window"] = 16;
  j["max_window_layers"] = 1;
  ModelConfig c = parse_hf_config(j, "cfg.json");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  ASSERT_EQ(c.sliding_window.size(), 2u);
  EXPECT_FALSE(c.sliding_window[0].has_value());
  EXPECT_EQ(c.sliding_window[1], 16);
}

// Issue 21 defect 4: values that make the forward NaN or empty are refused at load, naming the key.
TEST(ModelConfig, ImpossibleHyperParametersNameTheirKey) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::pair<const char*, nlohmann::json>> cases = {
      {"rms_norm_eps", 0.0},     {"rms_norm_eps", -1e-5},        {"rms_norm_eps", nan},
      {"rope_theta", 0.0},       {"rope_theta", -10000.0},       {"rope_theta", nan},
      {"hidden_size", 64.5},     {"max_position_embeddings", 0}, {"max_position_embeddings", -1},
      {"num_hidden_layers", 2.5}};
  for (const auto& [key, value] : cases) {
    SCOPED_TRACE(std::string(key) + " = " + value.dump());
    auto j = llama();
    j[key] = value;
    try {
      parse_hf_config(j, "cfg.json");
      ADD_FAILURE() << "accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + key + "'"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
    }
  }
  auto whole = llama();
  whole["hidden_size"] = 64.0;  // an integral float is still the integer it says
  EXPECT_EQ(parse_hf_config(whole, "cfg.json").hidden_size, 64);
}

TEST(ModelConfig, AnIntegerDtypeOnAFloatWeightNamesTheTensor) {
  const std::filesystem::path tiny = test::reference_dir("tiny_models") / "llama_tied";
  test::TempDir dir;
  std::filesystem::copy_file(tiny / "config.json", dir.path() / "config.json");
  auto file = SafetensorsFile::open(tiny / "model.safetensors");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& info : file.tensors()) {
    at::Tensor t = file.load(info.name);
    if (info.name == "model.norm.weight") t = t.to(at::kInt);
    tensors.emplace_back(info.name, t);
  }
  write_safetensors(dir.path() / "model.safetensors", tensors);
  try {
    load_model(dir.path(), LoadOptions{});
    ADD_FAILURE() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'model.norm.weight'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Int"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace slmq
