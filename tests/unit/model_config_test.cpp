#include "slmq/model/model_config.h"

#include <gtest/gtest.h>

#include "slmq/core/error.h"

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

}  // namespace
}  // namespace slmq
