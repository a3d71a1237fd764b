// Golden test: slmq::Tokenizer against the PyPI `tokenizers` package on the real qwen3, llama3,
// gemma3 and SmolLM2 tokenizers and on small synthetic ones (data from
// scripts/reference/gen_tokenizers.py). Every string must give identical ids with and without
// special tokens and identical decodes; nothing is tolerated (see support/tokenizer_golden.h).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "slmq/tokenizer/regex.h"
#include "slmq/tokenizer/tokenizer.h"
#include "slmq/tokenizer/utf8.h"
#include "support/temp_dir.h"
#include "support/tokenizer_golden.h"

namespace slmq {
namespace {

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, MatchesHuggingFaceTokenizers) {
  const auto dir = test::reference_dir("tokenizers");
  const auto golden_path = dir / GetParam() / "golden.json";
  if (!std::filesystem::exists(golden_path)) {
    GTEST_SKIP() << golden_path << " was not generated (SmolLM2 needs its GGUF in assets/models)";
  }
  const nlohmann::json golden = test::load_json(golden_path);
  const auto& where = golden["tokenizer"];
  const std::filesystem::path root =
      where["root"] == "reference" ? dir : std::filesystem::path(SLMQ_SOURCE_DIR);
  const Tokenizer tok = Tokenizer::from_file(root / where["path"].get<std::string>());

  // Real tokenizers: 10,000 dataset strings plus adversarial ones; synthetic: 1,500 plus.
  test::expect_matches_golden(tok, golden, GetParam(),
                              GetParam().starts_with("synthetic") ? 3000u : 11000u);
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, TokenizerGolden,
                         ::testing::Values("qwen3", "llama3", "gemma3", "smollm2"));

// Small trained tokenizers wired with the components the real ones leave out (see
// scripts/reference/_synthetic_tokenizers.py).
INSTANTIATE_TEST_SUITE_P(SyntheticTokenizers, TokenizerGolden,
                         ::testing::Values("synthetic_llama2", "synthetic_metaspace_first",
                                           "synthetic_metaspace_always", "synthetic_split",
                                           "synthetic_affixes"));

// The regex engine must put every code point in the same Unicode class as HF's Oniguruma.
TEST(TokenizerRegex, UnicodeClassesMatchOniguruma) {
  const nlohmann::json classes =
      test::load_json(test::reference_dir("tokenizers") / "unicode_classes.json");
  std::string text;
  std::vector<char32_t> at_byte;  // code point starting at each byte offset
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    const std::size_t before = text.size();
    tokenizer::append_utf8(text, cp);
    at_byte.resize(text.size(), 0);
    at_byte[before] = cp;
  }
  for (const auto& [pattern, ranges] : classes.items()) {
    std::vector<bool> want(0x110000, false);
    for (const auto& r : ranges) {
      for (auto cp = r[0].get<char32_t>(); cp <= r[1].get<char32_t>(); ++cp) want[cp] = true;
    }
    std::vector<bool> got(0x110000, false);
    std::vector<tokenizer::Span> matches;
    tokenizer::Regex(pattern, "test").find_all(text, matches);
    for (const auto& m : matches) got[at_byte[m.first]] = true;
    std::size_t differ = 0;
    std::string examples;
    for (char32_t cp = 0; cp < 0x110000; ++cp) {
      if (want[cp] == got[cp]) continue;
      if (++differ <= 10)
        examples += fmt::format(" U+{:04X}(HF {})", static_cast<unsigned>(cp), want[cp] ? 1 : 0);
    }
    EXPECT_EQ(differ, 0u) << pattern << " differs on" << examples;
  }
}

}  // namespace
}  // namespace slmq
