// tokenizer.json from a SentencePiece GGUF vocabulary (tokenizer.ggml.model "llama") on a
// hand-built ten-piece file: the merge order derived from the scores (ties, the score 0 of
// user-defined pieces), '▁' restored in user-defined pieces, byte fallback, space prefix, added
// tokens and their flags, and the typed errors naming the key. The real Gemma-3 file is checked
// against HF in tests/reference/gguf_spm_tokenizer_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"
#include "slmq/tokenizer/tokenizer.h"
#include "support/gguf_builder.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

using test::GgufSpec;
using Ids = std::vector<std::int32_t>;

// Pieces, their scores and SentencePiece types (2 unknown, 3 control, 4 user-defined, 6 byte).
// "  " is how llama.cpp's converter stores the user-defined piece "▁▁".
const std::vector<std::string> kTokens{"<unk>", "<s>", "</s>", "<0x41>", "  ",  "▁",
                                       "a",     "b",   "ab",   "▁a",     "▁ab", "<x>"};
const std::vector<float> kScores{0, 0, 0, 0, -1000, -100, -101, -102, -1, -2, -3, -1000};
const std::vector<std::int32_t> kTypes{2, 3, 3, 6, 4, 1, 1, 1, 1, 1, 1, 4};

GgufSpec spm_file(bool space_prefix) {
  GgufSpec spec;
  spec.kvs = {{"general.architecture", test::gguf_str("llama")},
              {"tokenizer.ggml.model", test::gguf_str("llama")},
              {"tokenizer.ggml.tokens", test::gguf_str_array(kTokens)},
              {"tokenizer.ggml.scores", test::gguf_f32_array(kScores)},
              {"tokenizer.ggml.token_type", test::gguf_i32_array(kTypes)},
              {"tokenizer.ggml.bos_token_id", test::gguf_u32(1)},
              {"tokenizer.ggml.eos_token_id", test::gguf_u32(2)},
              {"tokenizer.ggml.unknown_token_id", test::gguf_u32(0)},
              {"tokenizer.ggml.add_bos_token", test::gguf_bool(true)},
              {"tokenizer.ggml.add_space_prefix", test::gguf_bool(space_prefix)}};
  return spec;
}

class GgufSpmTokenizerJson : public ::testing::Test {
 protected:
  nlohmann::json build(const GgufSpec& spec) {
    const auto path = dir_.path() / ("t" + std::to_string(n_++) + ".gguf");
    const std::string bytes = spec.bytes();
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return gguf_to_hf_tokenizer(GgufFile::open(path));
  }
  // Expects `error` naming `key` when building from `spec`.
  template <typename Error>
  void expect_error(const GgufSpec& spec, const std::string& key) {
    try {
      build(spec);
      ADD_FAILURE() << "expected an error naming " << key;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  std::size_t index_of(const GgufSpec& spec, const std::string& key) {
    for (std::size_t i = 0; i < spec.kvs.size(); ++i)
      if (spec.kvs[i].first == key) return i;
    throw std::logic_error(key);
  }
  test::TempDir dir_;
  int n_ = 0;
};

TEST_F(GgufSpmTokenizerJson, MergesFollowTheScoresWithHfTieBreaks) {
  const auto json = build(spm_file(false));
  // Score 0 first (the user-defined "▁▁", not its stored -1000), then "ab" (-1), "▁a" (-2);
  // "▁ab" (-3) has two splits, the longer left part first.
  nlohmann::json want = nlohmann::json::array();
  for (const auto& [left, right] : std::vector<std::pair<std::string, std::string>>{
           {"▁", "▁"}, {"a", "b"}, {"▁", "a"}, {"▁a", "b"}, {"▁", "ab"}})
    want.push_back(nlohmann::json::array({left, right}));
  EXPECT_EQ(json["model"]["merges"], want);
  EXPECT_EQ(json["model"]["vocab"]["▁▁"], 4);
  EXPECT_FALSE(json["model"]["vocab"].contains("  "));
  EXPECT_EQ(json["model"]["unk_token"], "<unk>");
  EXPECT_EQ(json["model"]["byte_fallback"], true);
  EXPECT_EQ(json["model"]["fuse_unk"], true);
  EXPECT_TRUE(json["pre_tokenizer"].is_null());
  // Added: unknown and control special, user-defined not; all matched in the raw text.
  const auto& added = json["added_tokens"];
  ASSERT_EQ(added.size(), 5u);
  const std::vector<std::pair<std::string, bool>> want_added{
      {"<unk>", true}, {"<s>", true}, {"</s>", true}, {"▁▁", false}, {"<x>", false}};
  for (std::size_t i = 0; i < added.size(); ++i) {
    EXPECT_EQ(added[i]["content"], want_added[i].first);
    EXPECT_EQ(added[i]["special"], want_added[i].second);
    EXPECT_EQ(added[i]["normalized"], false);
  }
}

TEST_F(GgufSpmTokenizerJson, EncodesAndDecodesWithoutSpacePrefix) {
  const Tokenizer tok(build(spm_file(false)));
  EXPECT_EQ(tok.encode("ab", true), (Ids{1, 8}));
  EXPECT_EQ(tok.encode(" ab", false), (Ids{10}));  // "▁ab": a+b first, then ▁+ab
  EXPECT_EQ(tok.encode("  ", false), (Ids{4}));    // "▁▁" by its merge
  EXPECT_EQ(tok.encode("▁▁", false), (Ids{4}));    // the added token in the raw text
  EXPECT_EQ(tok.encode("A", false), (Ids{3}));     // byte fallback
  EXPECT_EQ(tok.encode("BB", false), (Ids{0}));    // no byte piece: one fused unknown
  EXPECT_EQ(tok.encode("a<x>b", false), (Ids{6, 11, 7}));
  EXPECT_EQ(tok.decode(Ids{1, 10, 3}, false), "<s> abA");
  EXPECT_EQ(tok.decode(Ids{1, 10, 11, 2}, true), " ab<x>");
}

TEST_F(GgufSpmTokenizerJson, SpacePrefixIsPrependedAndStrippedAgain) {
  const auto json = build(spm_file(true));
  EXPECT_EQ(json["normalizer"]["type"], "Sequence");
  const Tokenizer tok(json);
  EXPECT_EQ(tok.encode("ab", true), (Ids{1, 10}));
  EXPECT_EQ(tok.decode(Ids{1, 10}, true), "ab");
  EXPECT_EQ(tok.decode(Ids{10, 10}, false), "ab ab");
}

TEST_F(GgufSpmTokenizerJson, MissingOrMalformedKeysAreNamed) {
  const auto base = spm_file(false);
  auto without = [&](const std::string& key) {
    auto spec = base;
    spec.kvs.erase(spec.kvs.begin() + static_cast<std::ptrdiff_t>(index_of(spec, key)));
    return spec;
  };
  auto with = [&](const std::string& key, std::string value) {
    auto spec = base;
    spec.kvs[index_of(spec, key)].second = std::move(value);
    return spec;
  };
  expect_error<DataError>(without("tokenizer.ggml.scores"), "tokenizer.ggml.scores");
  expect_error<DataError>(with("tokenizer.ggml.scores", test::gguf_f32_array({0, 1})),
                          "tokenizer.ggml.scores");
  expect_error<DataError>(with("tokenizer.ggml.scores", test::gguf_i32_array(kTypes)),
                          "tokenizer.ggml.scores");
  auto nan_scores = kScores;
  nan_scores[6] = std::nanf("");
  expect_error<DataError>(with("tokenizer.ggml.scores", test::gguf_f32_array(nan_scores)),
                          "tokenizer.ggml.scores");
  expect_error<DataError>(without("tokenizer.ggml.token_type"), "tokenizer.ggml.token_type");
  auto bad_types = kTypes;
  bad_types[7] = 9;
  expect_error<DataError>(with("tokenizer.ggml.token_type", test::gguf_i32_array(bad_types)),
                          "tokenizer.ggml.token_type");
  auto twice = kTokens;
  twice[7] = "a";
  expect_error<DataError>(with("tokenizer.ggml.tokens", test::gguf_str_array(twice)),
                          "tokenizer.ggml.tokens");
  // "  " becomes "▁▁", which another piece already is.
  twice = kTokens;
  twice[5] = "▁▁";
  expect_error<DataError>(with("tokenizer.ggml.tokens", test::gguf_str_array(twice)),
                          "tokenizer.ggml.tokens");
  expect_error<DataError>(without("tokenizer.ggml.unknown_token_id"),
                          "tokenizer.ggml.unknown_token_id");
  expect_error<DataError>(with("tokenizer.ggml.unknown_token_id", test::gguf_u32(99)),
                          "tokenizer.ggml.unknown_token_id");
  expect_error<DataError>(without("tokenizer.ggml.bos_token_id"), "tokenizer.ggml.bos_token_id");
  expect_error<UnsupportedError>(with("tokenizer.ggml.model", test::gguf_str("bert")),
                                 "tokenizer.ggml.model 'bert'");
}

}  // namespace
}  // namespace slmq::io
