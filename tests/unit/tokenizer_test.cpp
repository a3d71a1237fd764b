// Unit tests of slmq::Tokenizer behaviour that the golden files do not pin down: error reporting,
// tokenizer_config handling, the regex match limit and the in-memory constructor.
#include "slmq/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "slmq/core/error.h"
#include "slmq/tokenizer/regex.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

using nlohmann::json;

// A byte-level BPE over the letters a, b, c with merges "a b" then "ab c".
json tiny_tokenizer() {
  return json::parse(R"({
    "version": "1.0",
    "added_tokens": [
      {"id": 5, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
       "normalized": false, "special": true},
      {"id": 6, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
       "normalized": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": null,
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4},
              "merges": ["a b", ["ab", "c"]]}
  })");
}

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Tokenizer, EncodesAndDecodesFromAnInMemoryDocument) {
  const Tokenizer tok(tiny_tokenizer());
  EXPECT_EQ(tok.encode("abc", false), (std::vector<std::int32_t>{4}));
  EXPECT_EQ(tok.encode("ab<s>cab", true), (std::vector<std::int32_t>{3, 5, 2, 3}));
  const std::vector<std::int32_t> ids{4, 5, 99, 3};  // 99 is no token: skipped, as in HF
  EXPECT_EQ(tok.decode(ids, false), "abc<s>ab");
  EXPECT_EQ(tok.decode(ids, true), "abcab");
  EXPECT_EQ(tok.vocab_size(), 7u);
  EXPECT_EQ(tok.token_to_id("</s>"), 6);
  EXPECT_EQ(tok.id_to_token(3), "ab");
  EXPECT_FALSE(tok.id_to_token(7).has_value());
  EXPECT_TRUE(tok.is_special(5));
  EXPECT_FALSE(tok.bos_id().has_value());
}

TEST(Tokenizer, ConfigAddsBosAndEosOnlyWhenAsked) {
  TokenizerConfig config;
  config.bos_token = "<s>";
  config.eos_token = "</s>";
  config.add_bos_token = true;
  config.add_eos_token = true;
  const Tokenizer tok(tiny_tokenizer(), config);
  EXPECT_EQ(tok.bos_id(), 5);
  EXPECT_EQ(tok.eos_id(), 6);
  EXPECT_EQ(tok.encode("abc", true), (std::vector<std::int32_t>{5, 4, 6}));
  EXPECT_EQ(tok.encode("abc", false), (std::vector<std::int32_t>{4}));
}

TEST(Tokenizer, ConfigFileBesideTokenizerJsonIsRead) {
  test::TempDir dir;
  std::ofstream(dir.path() / "tokenizer.json") << tiny_tokenizer().dump();
  std::ofstream(dir.path() / "tokenizer_config.json")
      << R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>", "add_bos_token": true})";
  const Tokenizer tok = Tokenizer::from_file(dir.path());
  EXPECT_EQ(tok.encode("ab", true), (std::vector<std::int32_t>{5, 3}));
  EXPECT_EQ(tok.eos_id(), 6);
}

TEST(Tokenizer, InvalidUtf8IsRepairedLikePythonReplace) {
  const Tokenizer tok(tiny_tokenizer());
  // "\xE2\x82" is one maximal subpart -> one U+FFFD, whose three bytes are byte-level chars the
  // tiny vocab lacks: the model drops them, which is what HF does with the repaired string.
  EXPECT_EQ(tok.encode("ab\xE2\x82"
                       "c",
                       false),
            tok.encode("ab\xEF\xBF\xBD"
                       "c",
                       false));
  EXPECT_EQ(tok.decode(std::vector<std::int32_t>{0}, false), "a");
}

TEST(Tokenizer, UnsupportedComponentIsNamed) {
  auto doc = tiny_tokenizer();
  doc["normalizer"] = {{"type", "Lowercase"}};
  const auto what = error_of<UnsupportedError>([&] { Tokenizer tok(doc, {}, "x/tokenizer.json"); });
  EXPECT_NE(what.find("x/tokenizer.json"), std::string::npos) << what;
  EXPECT_NE(what.find("normalizer.type"), std::string::npos) << what;
  EXPECT_NE(what.find("Lowercase"), std::string::npos) << what;

  doc = tiny_tokenizer();
  doc["model"]["type"] = "WordPiece";
  EXPECT_NE(error_of<UnsupportedError>([&] { Tokenizer tok(doc); }).find("WordPiece"),
            std::string::npos);
}

TEST(Tokenizer, MalformedFilesNameTheJsonPath) {
  auto doc = tiny_tokenizer();
  doc["model"]["merges"][0] = "a";
  auto what = error_of<DataError>([&] { Tokenizer tok(doc); });
  EXPECT_NE(what.find("model.merges[0]"), std::string::npos) << what;

  doc = tiny_tokenizer();
  doc["model"]["merges"][1] = json::array({"ab", "zz"});
  what = error_of<DataError>([&] { Tokenizer tok(doc); });
  EXPECT_NE(what.find("'zz' is not in the vocab"), std::string::npos) << what;

  doc = tiny_tokenizer();
  doc["model"].erase("vocab");
  what = error_of<DataError>([&] { Tokenizer tok(doc); });
  EXPECT_NE(what.find("model.vocab: missing"), std::string::npos) << what;

  doc = tiny_tokenizer();
  doc["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  what = error_of<DataError>([&] { Tokenizer tok(doc); });
  EXPECT_NE(what.find("pre_tokenizer.pattern"), std::string::npos) << what;
}

// Found by the tokenizer_json fuzz target (fuzz/regressions/tokenizer_json/): one vocab id of
// 211000000 sized the dense id table at 6.7 GB. Ids far beyond the entry count are a DataError
// naming model.vocab; a modest hole (duplicate tokens of a converted GGUF) still loads.
TEST(Tokenizer, VocabIdsFarBeyondTheEntriesAreRefusedBeforeSizingTheTable) {
  json doc = tiny_tokenizer();
  doc["model"]["vocab"]["abc"] = 211000000;
  const std::string what = error_of<DataError>([&] { Tokenizer{doc}; });
  EXPECT_NE(what.find("model.vocab"), std::string::npos) << what;
  EXPECT_NE(what.find("ids reach 211000000 but the vocabulary has 5 entries"), std::string::npos)
      << what;
  doc["model"]["vocab"]["abc"] = 1000;
  const Tokenizer holes(doc);
  EXPECT_EQ(holes.id_to_token(1000), "abc");
}

TEST(Tokenizer, MissingOrBrokenFileIsADataError) {
  test::TempDir dir;
  EXPECT_NE(error_of<DataError>([&] {
              Tokenizer::from_file(dir.path() / "nope.json");
            }).find("nope.json"),
            std::string::npos);
  std::ofstream(dir.path() / "tokenizer.json") << "{\"model\": ";
  EXPECT_NE(error_of<DataError>([&] { Tokenizer::from_file(dir.path()); }).find("not valid JSON"),
            std::string::npos);
}

TEST(TokenizerRegex, HostilePatternHitsTheMatchLimitInsteadOfHanging) {
  const tokenizer::Regex regex("(a+)+$", "test");
  std::vector<tokenizer::Span> matches;
  const std::string text = std::string(40, 'a') + "b";
  EXPECT_THROW(regex.find_all(text, matches), DataError);
}

TEST(TokenizerRegex, OnigurumaSpaceClassIncludesNextLine) {
  const tokenizer::Regex regex(R"(\s+|[^\s]+)", "test");
  std::vector<tokenizer::Span> matches;
  regex.find_all("a\xC2\x85 b", matches);  // U+0085 NEXT LINE is \s in Oniguruma
  ASSERT_EQ(matches.size(), 3u);
  EXPECT_EQ(matches[1], (tokenizer::Span{1, 4}));
}

}  // namespace
}  // namespace slmq
