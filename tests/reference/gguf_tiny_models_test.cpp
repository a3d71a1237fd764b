// load_gguf_model_files against transformers' GGUF loader on two tiny random models written by
// the gguf package (scripts/reference/gen_gguf_tiny_models.py): Qwen2 with q/k/v biases and an
// untied lm_head (no permutation), Llama with grouped-query attention and tied embeddings
// (Q/K unpermuted with 4 and 2 heads). Weights must be bit-identical (tolerance: none).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "slmq/io/gguf_model.h"
#include "slmq/io/json_file.h"
#include "slmq/model/gguf_model.h"
#include "support/checksum.h"
#include "support/reference_files.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

class GgufTinyModels : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path dir_ = test::reference_dir("gguf_tiny_models");
};

TEST_P(GgufTinyModels, WeightsMatchTransformersBitExactly) {
  const auto files = load_gguf_model_files(dir_ / (GetParam() + ".gguf"));
  const auto state = slmq::read_json_file(dir_ / (GetParam() + ".state_dict.json"));
  std::set<std::string> ours, theirs;
  for (const auto& [name, w] : files.weights) ours.insert(name);
  for (const auto& [name, e] : state.items()) theirs.insert(name);
  EXPECT_EQ(ours, theirs);
  for (const auto& [name, e] : state.items()) {
    auto it = files.weights.find(name);
    if (it == files.weights.end()) continue;
    EXPECT_EQ(it->second.shape, e["shape"].get<std::vector<std::int64_t>>()) << name;
    EXPECT_EQ(test::fp32_checksum(it->second.load()), std::stoull(e["checksum"].get<std::string>()))
        << name;
  }
}

TEST_P(GgufTinyModels, ConfigMatchesTransformers) {
  const auto files = load_gguf_model_files(dir_ / (GetParam() + ".gguf"));
  const auto theirs = slmq::read_json_file(dir_ / (GetParam() + ".config.json"));
  for (const char* key : {"model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
                          "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
                          "rms_norm_eps", "vocab_size", "tie_word_embeddings", "bos_token_id",
                          "eos_token_id", "rope_parameters", "hidden_act"}) {
    EXPECT_EQ(files.config.value(key, nlohmann::json()), theirs.value(key, nlohmann::json()))
        << key;
  }
  // Qwen2Config derives head_dim instead of storing it.
  const auto head_dim = theirs.value("head_dim", nlohmann::json());
  if (head_dim.is_null()) {
    EXPECT_EQ(files.config["head_dim"], files.config["hidden_size"].get<int>() /
                                            files.config["num_attention_heads"].get<int>());
  } else {
    EXPECT_EQ(files.config["head_dim"], head_dim);
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, GgufTinyModels, ::testing::Values("qwen2", "llama"));

}  // namespace
}  // namespace slmq::io
