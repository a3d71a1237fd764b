// The bundled SmolLM2-135M-Instruct.Q4_1.gguf and Gemma-3 270M Q4_K_M against the gguf package
// (every tensor's fp32 dequantization, bit-exact: tolerance none), and SmolLM2 and against HF
// transformers' GGUF loader (names, shapes and values after the Q/K unpermutation, bit-exact;
// config and tokenizer contents). Reference data: scripts/reference/gen_gguf_smollm2.py and
// gen_gguf_transformers.py.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
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

const std::filesystem::path kModel =
    std::filesystem::path(SLMQ_SOURCE_DIR) / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf";

// Largest |a - b| over the first b.size() elements (NaN if any pair differs in NaN-ness).
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < b.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

std::uint64_t expected_checksum(const nlohmann::json& entry) {
  return std::stoull(entry["checksum"].get<std::string>());
}

// Every tensor of a real file against the gguf package: checksums of all values, full values of
// the dumped tensors (max |diff| printed), and the wall time of open + dequantize.
void check_real_file(const std::filesystem::path& model, const std::string& reference) {
  ASSERT_TRUE(std::filesystem::exists(model)) << model << ": run scripts/setup.sh";
  const auto dir = test::reference_dir(reference);
  const auto expected = slmq::read_json_file(dir / "tensors.json");
  const auto t0 = std::chrono::steady_clock::now();
  const auto file = GgufFile::open(model);
  ASSERT_EQ(file.tensors().size(), expected.size());
  double dequant_ms = 0;
  std::set<std::string> types;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& info = file.tensors()[i];
    const auto& e = expected[i];
    ASSERT_EQ(info.name, e["name"].get<std::string>());
    EXPECT_EQ(ggml_traits(info.type).name, e["type"].get<std::string>()) << info.name;
    EXPECT_EQ(info.dims, e["dims"].get<std::vector<std::int64_t>>()) << info.name;
    EXPECT_EQ(info.offset, e["offset"].get<std::uint64_t>()) << info.name;
    const auto d0 = std::chrono::steady_clock::now();
    const auto values = file.dequantize(info);
    dequant_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - d0).count();
    EXPECT_EQ(test::fp32_checksum(values), expected_checksum(e)) << info.name;
    types.insert(std::string(ggml_traits(info.type).name));
    if (std::filesystem::exists(dir / (info.name + ".f32"))) {
      const auto full = test::read_f32(dir / (info.name + ".f32"));
      ASSERT_LE(full.size(), values.size());
      EXPECT_EQ(0, std::memcmp(values.data(), full.data(), full.size() * 4)) << info.name;
      std::cout << "[ gguf     ] " << info.name << " (" << ggml_traits(info.type).name
                << "): max |diff| vs gguf = " << max_abs_diff(values, full) << " over "
                << full.size() << " values\n";
    }
  }
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::string type_list;
  for (const auto& t : types) type_list += " " + t;
  std::cout << "[ gguf     ] " << model.filename().string() << ": " << expected.size()
            << " tensors (" << type_list << " ) checksums equal; open + dequantize + checksum "
            << total_ms << " ms (dequantize alone " << dequant_ms << " ms)\n";
}

TEST(GgufSmolLM2, EveryTensorDequantizesBitExactly) { check_real_file(kModel, "gguf_smollm2"); }

TEST(GgufGemma3, EveryKQuantTensorDequantizesBitExactly) {
  check_real_file(kModel.parent_path() / "gemma-3-270m-q4_k_m.gguf", "gguf_gemma3");
}

class GgufSmolLM2VsTransformers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(std::filesystem::exists(kModel)) << kModel << ": run scripts/setup.sh";
    files_ = new GgufModelFiles(load_gguf_model_files(kModel));
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static GgufModelFiles* files_;
  std::filesystem::path ref_ = test::reference_dir("gguf_transformers");
};
GgufModelFiles* GgufSmolLM2VsTransformers::files_ = nullptr;

TEST_F(GgufSmolLM2VsTransformers, StateDictNamesShapesAndValuesMatch) {
  const auto state = slmq::read_json_file(ref_ / "state_dict.json");
  std::set<std::string> ours, theirs;
  for (const auto& [name, w] : files_->weights) ours.insert(name);
  for (const auto& [name, e] : state.items()) theirs.insert(name);
  EXPECT_EQ(ours, theirs);
  for (const auto& [name, e] : state.items()) {
    auto it = files_->weights.find(name);
    if (it == files_->weights.end()) continue;
    EXPECT_EQ(it->second.shape, e["shape"].get<std::vector<std::int64_t>>()) << name;
    EXPECT_EQ(test::fp32_checksum(it->second.load()), expected_checksum(e)) << name;
  }
}

TEST_F(GgufSmolLM2VsTransformers, QueryAndKeyRowsAreUnpermuted) {
  for (const char* name :
       {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
        "model.layers.0.self_attn.v_proj.weight"}) {
    const auto expected = test::read_f32(ref_ / (std::string(name) + ".f32"));
    const auto& w = files_->weights.at(name);
    const auto ours = w.load();
    ASSERT_EQ(ours.size(), expected.size()) << name;
    EXPECT_EQ(max_abs_diff(ours, expected), 0.0) << name;
    // Without the unpermutation q and k would differ (v is stored as in HF).
    const auto raw = files_->file->dequantize(files_->file->require_tensor(w.gguf_name));
    const bool is_v = std::string(name).find("v_proj") != std::string::npos;
    EXPECT_EQ(max_abs_diff(raw, expected) == 0.0, is_v) << name;
  }
}

TEST_F(GgufSmolLM2VsTransformers, ConfigMatches) {
  const auto theirs = slmq::read_json_file(ref_ / "config.json");
  const auto& ours = files_->config;
  for (const char* key :
       {"model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings",
        "rms_norm_eps", "vocab_size", "tie_word_embeddings", "hidden_act", "attention_bias",
        "mlp_bias", "bos_token_id", "eos_token_id", "pad_token_id", "rope_parameters"}) {
    ASSERT_TRUE(theirs.contains(key)) << key;
    EXPECT_EQ(ours.value(key, nlohmann::json()), theirs[key]) << key;
  }
  EXPECT_EQ(ours["rope_theta"], theirs["rope_parameters"]["rope_theta"]);
  EXPECT_EQ(ours["architectures"], nlohmann::json({"LlamaForCausalLM"}));
}

TEST_F(GgufSmolLM2VsTransformers, TokenizerVocabMergesAndAddedTokensMatch) {
  const auto theirs = slmq::read_json_file(ref_ / "tokenizer.json");
  const auto& ours = files_->tokenizer;
  EXPECT_EQ(ours["model"]["type"], "BPE");
  EXPECT_EQ(ours["model"]["vocab"], theirs["model"]["vocab"]);
  EXPECT_EQ(ours["model"]["merges"], theirs["model"]["merges"]);
  ASSERT_EQ(ours["added_tokens"].size(), theirs["added_tokens"].size());
  for (std::size_t i = 0; i < ours["added_tokens"].size(); ++i) {
    EXPECT_EQ(ours["added_tokens"][i], theirs["added_tokens"][i]) << i;
  }
}

// Where we deliberately differ from transformers' GGUF conversion, pin what we do instead.
TEST_F(GgufSmolLM2VsTransformers, DeliberateDifferencesFromTransformers) {
  const auto theirs = slmq::read_json_file(ref_ / "tokenizer.json");
  const auto& ours = files_->tokenizer;
  // tokenizer.ggml.pre = "smollm": llama.cpp isolates every digit before the GPT-2 split, as the
  // original SmolLM2 tokenizer does (Digits + ByteLevel); transformers uses ByteLevel alone.
  EXPECT_EQ(theirs["pre_tokenizer"]["type"], "ByteLevel");
  ASSERT_EQ(ours["pre_tokenizer"]["type"], "Sequence");
  EXPECT_EQ(ours["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], "\\p{N}");
  EXPECT_EQ(ours["pre_tokenizer"]["pretokenizers"][1]["type"], "ByteLevel");
  // transformers' GGUF Llama converter names the bos token as eos; we keep the file's ids.
  const auto theirs_config = slmq::read_json_file(ref_ / "tokenizer_config.json");
  EXPECT_EQ(theirs_config["eos_token"], "<|im_start|>");
  EXPECT_EQ(files_->tokenizer_config["bos_token"], "<|im_start|>");
  EXPECT_EQ(files_->tokenizer_config["eos_token"], "<|im_end|>");
  EXPECT_EQ(files_->tokenizer_config["add_bos_token"], false);
  EXPECT_EQ(files_->tokenizer_config["chat_template"],
            files_->file->get_string("tokenizer.chat_template"));
}

}  // namespace
}  // namespace slmq::io
