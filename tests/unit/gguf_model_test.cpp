// GGUF -> HF mapping on small hand-built files: names, which tensors get unpermuted, config and
// tokenizer JSON per architecture / pre-tokenizer, and the unsupported cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "slmq/core/error.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_model.h"
#include "slmq/model/gguf_model.h"
#include "support/gguf_builder.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

using test::GgufSpec;

const Architecture& kLlama = *architecture_for_gguf("llama");

// A one-layer model: hidden 8, 2 heads of 4, 1 kv head, vocab 6, every tensor F32 holding
// 0, 1, 2, ... so that row moves are visible.
GgufSpec tiny_model(const std::string& arch, const std::string& pre, bool with_output) {
  GgufSpec spec;
  spec.kvs = {{"general.architecture", test::gguf_str(arch)},
              {arch + ".embedding_length", test::gguf_u32(8)},
              {arch + ".block_count", test::gguf_u32(1)},
              {arch + ".feed_forward_length", test::gguf_u32(16)},
              {arch + ".context_length", test::gguf_u32(128)},
              {arch + ".attention.head_count", test::gguf_u32(2)},
              {arch + ".attention.head_count_kv", test::gguf_u32(1)},
              {arch + ".attention.layer_norm_rms_epsilon", test::gguf_f32(1e-6f)},
              {"tokenizer.ggml.model", test::gguf_str("gpt2")},
              {"tokenizer.ggml.pre", test::gguf_str(pre)},
              {"tokenizer.ggml.tokens", test::gguf_str_array({"<s>", "a", "b", "ab", "Ġ", "<x>"})},
              {"tokenizer.ggml.token_type", test::gguf_i32_array({3, 1, 1, 1, 1, 4})},
              {"tokenizer.ggml.merges", test::gguf_str_array({"a b"})},
              {"tokenizer.ggml.bos_token_id", test::gguf_u32(0)},
              {"tokenizer.ggml.eos_token_id", test::gguf_u32(0)}};
  std::vector<std::pair<std::string, std::vector<std::uint64_t>>> tensors{
      {"token_embd.weight", {8, 6}},
      {"blk.0.attn_q.weight", {8, 8}},
      {"blk.0.attn_k.weight", {8, 4}},
      {"blk.0.attn_v.weight", {8, 4}},
      {"output_norm.weight", {8}}};
  if (with_output) tensors.push_back({"output.weight", {8, 6}});
  spec.tensors.clear();
  spec.data.clear();
  for (const auto& [name, dims] : tensors) {
    std::uint64_t n = 1;
    for (auto d : dims) n *= d;
    spec.tensors.push_back({name, dims, 0, spec.data.size()});
    test::GgufBytes values;
    for (std::uint64_t i = 0; i < n; ++i) values.f32(static_cast<float>(i));
    spec.data += values.data();
    spec.data.resize((spec.data.size() + 31) / 32 * 32, '\0');
  }
  return spec;
}

class GgufModel : public ::testing::Test {
 protected:
  std::filesystem::path write(const GgufSpec& spec) {
    auto path = dir_.path() / ("m" + std::to_string(n_++) + ".gguf");
    const std::string bytes = spec.bytes();
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  test::TempDir dir_;
  int n_ = 0;
};

TEST(GgufNames, LlamaCppToHf) {
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "output.weight"), "lm_head.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.12.attn_q.weight"),
            "model.layers.12.self_attn.q_proj.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.0.attn_k.bias"),
            "model.layers.0.self_attn.k_proj.bias");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.3.attn_output.weight"),
            "model.layers.3.self_attn.o_proj.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.3.attn_norm.weight"),
            "model.layers.3.input_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.3.ffn_norm.weight"),
            "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.3.ffn_gate.weight"),
            "model.layers.3.mlp.gate_proj.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.3.ffn_up.weight"),
            "model.layers.3.mlp.up_proj.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.3.ffn_down.weight"),
            "model.layers.3.mlp.down_proj.weight");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "rope_freqs.weight"), "");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.x.attn_q.weight"), "");
  EXPECT_EQ(gguf_to_hf_tensor_name(kLlama, "blk.1.attn_q.scale"), "");
}

TEST(GgufNames, UnpermuteMatchesTransformersReshape) {
  // transformers: w.reshape(n_head, rows / n_head / 2, 2, cols).swapaxes(2, 1)
  std::vector<float> rows{0, 1, 2, 3, 4, 5, 6, 7};
  unpermute_qk_rows(rows, 8, 1, 2);
  EXPECT_EQ(rows, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  std::vector<float> two_cols{0, 0, 1, 1, 2, 2, 3, 3};
  unpermute_qk_rows(two_cols, 4, 2, 1);
  EXPECT_EQ(two_cols, (std::vector<float>{0, 0, 2, 2, 1, 1, 3, 3}));
  std::vector<float> bad(6);
  EXPECT_THROW(unpermute_qk_rows(bad, 6, 1, 2), DataError);
}

TEST(GgufDequant, Fp16EveryValue) {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<std::uint16_t>(h));
    const int exp = (h >> 10) & 0x1F;
    const int mant = h & 0x3FF;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exp == 31) {
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      EXPECT_EQ(bits,
                ((h & 0x8000u) << 16) | 0x7F800000u | (static_cast<std::uint32_t>(mant) << 13))
          << h;
      continue;
    }
    const double expected =
        exp == 0 ? sign * std::ldexp(mant, -24) : sign * std::ldexp(1024 + mant, exp - 25);
    ASSERT_EQ(static_cast<double>(f), expected) << h;
    EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
  }
}

TEST(GgufDequant, SizeContractAndUnsupportedTypes) {
  std::vector<std::uint8_t> src(33);
  std::vector<float> dst(32);
  EXPECT_THROW(dequantize(GgmlType::kQ8_0, src, dst), InternalError);
  std::vector<std::uint8_t> iq(66);
  std::vector<float> out(256);
  EXPECT_THROW(dequantize(GgmlType::kIQ2_XXS, iq, out), UnsupportedError);
}

TEST_F(GgufModel, LlamaUnpermutesQueryAndKeyOnly) {
  const auto files = load_gguf_model_files(write(tiny_model("llama", "smollm", false)));
  EXPECT_EQ(files.config["model_type"], "llama");
  EXPECT_EQ(files.config["head_dim"], 4);
  EXPECT_EQ(files.config["tie_word_embeddings"], true);
  EXPECT_EQ(files.weights.count("lm_head.weight"), 0u);
  const auto& q = files.weights.at("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(q.shape, (std::vector<std::int64_t>{8, 8}));
  // Head 0 rows 0..3 were stored as 0, 2, 1, 3 -> HF rows 0, 2, 1, 3 of the stored order.
  const auto qv = q.load();
  EXPECT_EQ(qv[1 * 8], 2 * 8);
  EXPECT_EQ(qv[2 * 8], 1 * 8);
  const auto kv = files.weights.at("model.layers.0.self_attn.k_proj.weight").load();
  EXPECT_EQ(kv[1 * 8], 2 * 8);
  const auto vv = files.weights.at("model.layers.0.self_attn.v_proj.weight").load();
  EXPECT_EQ(vv[1 * 8], 1 * 8);
}

TEST_F(GgufModel, Qwen2KeepsRowsAndUsesItsRegexAndNfc) {
  const auto files = load_gguf_model_files(write(tiny_model("qwen2", "qwen2", true)));
  EXPECT_EQ(files.config["model_type"], "qwen2");
  EXPECT_EQ(files.config["architectures"][0], "Qwen2ForCausalLM");
  EXPECT_EQ(files.config["tie_word_embeddings"], false);
  EXPECT_EQ(files.weights.count("lm_head.weight"), 1u);
  EXPECT_EQ(files.weights.at("model.layers.0.self_attn.q_proj.weight").load()[8], 8.0f);
  EXPECT_EQ(files.tokenizer["normalizer"]["type"], "NFC");
  const auto& split = files.tokenizer["pre_tokenizer"]["pretokenizers"][0];
  EXPECT_EQ(split["type"], "Split");
  EXPECT_NE(split["pattern"]["Regex"].get<std::string>().find(R"(\p{N}|)"), std::string::npos);
}

TEST_F(GgufModel, TokenizerJson) {
  auto spec = tiny_model("llama", "llama-bpe", false);
  spec.kvs.emplace_back("tokenizer.ggml.add_bos_token", test::gguf_bool(true));
  const auto files = load_gguf_model_files(write(spec));
  const auto& tok = files.tokenizer;
  EXPECT_EQ(tok["model"]["vocab"]["ab"], 3);
  EXPECT_EQ(tok["model"]["merges"], nlohmann::json::parse(R"([["a", "b"]])"));
  EXPECT_EQ(tok["model"]["ignore_merges"], true);
  ASSERT_EQ(tok["added_tokens"].size(), 2u);
  EXPECT_EQ(tok["added_tokens"][0]["content"], "<s>");
  EXPECT_EQ(tok["added_tokens"][0]["special"], true);
  EXPECT_EQ(tok["added_tokens"][1]["content"], "<x>");
  EXPECT_EQ(tok["added_tokens"][1]["special"], false);
  EXPECT_EQ(tok["post_processor"]["type"], "TemplateProcessing");
  EXPECT_EQ(tok["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
  EXPECT_EQ(files.tokenizer_config["add_bos_token"], true);
  EXPECT_EQ(files.tokenizer_config["bos_token"], "<s>");
}

TEST_F(GgufModel, UnsupportedCasesNameWhatIsUnsupported) {
  auto expect_unsupported = [&](const GgufSpec& spec, const std::string& fragment) {
    try {
      load_gguf_model_files(write(spec));
      ADD_FAILURE() << "expected UnsupportedError: " << fragment;
    } catch (const UnsupportedError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_unsupported(tiny_model("falcon", "default", false), "general.architecture 'falcon'");
  expect_unsupported(tiny_model("llama", "unheard-of", false), "tokenizer.ggml.pre 'unheard-of'");
  auto bert = tiny_model("llama", "default", false);
  bert.kvs[8].second = test::gguf_str("bert");
  expect_unsupported(bert, "tokenizer.ggml.model 'bert'");
  auto extra = tiny_model("llama", "default", false);
  extra.tensors.push_back({"blk.0.attn_unheard.weight", {8}, 0, extra.data.size()});
  extra.data += std::string(32, '\0');
  expect_unsupported(extra, "blk.0.attn_unheard.weight");
}

// Llama-3.1+ GGUFs carry their RoPE scaling as rope_freqs (head_dim / 2 divisors): it becomes the
// config's "factors" RoPE, not a weight; a tensor of the wrong length names itself.
TEST_F(GgufModel, RopeFreqsBecomeRopeFactors) {
  auto spec = tiny_model("llama", "default", false);
  spec.tensors.push_back({"rope_freqs.weight", {2}, 0, spec.data.size()});
  test::GgufBytes values;
  values.f32(1.0f).f32(8.0f);
  spec.data += values.data();
  spec.data.resize((spec.data.size() + 31) / 32 * 32, '\0');
  const auto files = load_gguf_model_files(write(spec));
  EXPECT_EQ(files.config["rope_parameters"]["rope_type"], "factors");
  EXPECT_EQ(files.config["rope_parameters"]["freq_factors"], nlohmann::json::parse("[1.0, 8.0]"));
  EXPECT_EQ(files.weights.count("rope_freqs.weight"), 0u);
  auto wrong = tiny_model("llama", "default", false);
  wrong.tensors.push_back({"rope_freqs.weight", {8}, 0, wrong.data.size()});
  wrong.data += std::string(32, '\0');
  try {
    load_gguf_model_files(write(wrong));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("rope_freqs.weight"), std::string::npos) << e.what();
  }
}

TEST_F(GgufModel, MalformedTokenizerMetadataIsADataError) {
  auto spec = tiny_model("llama", "default", false);
  spec.kvs[12].second = test::gguf_str_array({"a b c"});
  EXPECT_THROW(load_gguf_model_files(write(spec)), DataError);
  spec.kvs[12].second = test::gguf_str_array({"a z"});
  EXPECT_THROW(load_gguf_model_files(write(spec)), DataError);
  spec = tiny_model("llama", "default", false);
  spec.kvs[11].second = test::gguf_i32_array({3});
  EXPECT_THROW(load_gguf_model_files(write(spec)), DataError);
  spec = tiny_model("llama", "default", false);
  spec.kvs[13].second = test::gguf_u32(99);
  EXPECT_THROW(load_gguf_model_files(write(spec)), DataError);
  spec = tiny_model("llama", "default", false);
  spec.kvs.erase(spec.kvs.begin() + 1);  // llama.embedding_length
  try {
    load_gguf_model_files(write(spec));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("llama.embedding_length"), std::string::npos) << e.what();
  }
}

// Defect 3 of issue 21: block_count 4294967295 ended in std::bad_alloc. A layer count the tensor
// table does not back (here one block, blk.0) is a DataError naming the key, whatever its size.
TEST_F(GgufModel, BlockCountBeyondTheTensorsIsADataErrorNamingTheKey) {
  for (std::uint32_t count : {4294967295u, 2u, 0u}) {
    auto spec = tiny_model("llama", "default", false);
    spec.kvs[2].second = test::gguf_u32(count);  // llama.block_count
    try {
      load_gguf_model_files(write(spec));
      ADD_FAILURE() << "block_count " << count << " was accepted";
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("'llama.block_count'"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(count) + " blocks"), std::string::npos) << what;
    }
  }
  EXPECT_EQ(load_gguf_model_files(write(tiny_model("llama", "default", false)))
                .config["num_hidden_layers"],
            1);
}

}  // namespace
}  // namespace slmq::io
