// Golden test: slmq::Tokenizer against the PyPI `tokenizers` package on the real qwen3, llama3,
// gemma3 and SmolLM2 tokenizers and on small synthetic ones (data from
// scripts/reference/gen_tokenizers.py). Every string must give identical ids with and without
// special tokens and identical decodes; nothing is tolerated. Encoding runs on several threads at
// once, which also checks thread safety.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "slmq/tokenizer/regex.h"
#include "slmq/tokenizer/tokenizer.h"
#include "slmq/tokenizer/utf8.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

nlohmann::json load_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str());
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

struct Tally {
  std::size_t total = 0, ids = 0, ids_special = 0, decoded = 0, decoded_special = 0,
              decoded_skip = 0;
  std::vector<std::string> failures;
  void add(const Tally& o) {
    total += o.total;
    ids += o.ids;
    ids_special += o.ids_special;
    decoded += o.decoded;
    decoded_special += o.decoded_special;
    decoded_skip += o.decoded_skip;
    failures.insert(failures.end(), o.failures.begin(), o.failures.end());
  }
};

std::string show(const std::vector<std::int32_t>& ids) { return nlohmann::json(ids).dump(); }

void check_case(const Tokenizer& tok, const nlohmann::json& c, std::size_t index, Tally& t) {
  const std::string text = c.contains("text") ? c["text"].get<std::string>()
                                              : from_hex(c["text_hex"].get<std::string>());
  // The expected decode of an unchanged text is stored as null; HF saw the repaired text.
  const std::string repaired = tokenizer::sanitize_utf8(text);
  const auto expected_text = [&](const char* key) {
    return c[key].is_null() ? repaired : c[key].get<std::string>();
  };
  ++t.total;
  const auto ids = tok.encode(text, false);
  const auto ids_special = tok.encode(text, true);
  const auto want = c["ids"].get<std::vector<std::int32_t>>();
  const auto want_special = c["ids_special"].get<std::vector<std::int32_t>>();
  const auto note = [&](const std::string& what) {
    if (t.failures.size() < 5) {
      t.failures.push_back(fmt::format("case {} ({}) {}: text {}", index,
                                       c["kind"].get<std::string>(), what,
                                       nlohmann::json(repaired).dump()));
    }
  };
  if (ids == want) {
    ++t.ids;
  } else {
    note("ids " + show(ids) + " != HF " + show(want));
  }
  if (ids_special == want_special) {
    ++t.ids_special;
  } else {
    note("ids_special " + show(ids_special) + " != HF " + show(want_special));
  }
  // Decodes run on HF's ids so that an encode mismatch does not hide decode behaviour.
  if (tok.decode(want, false) == expected_text("decoded")) {
    ++t.decoded;
  } else {
    note("decode " + nlohmann::json(tok.decode(want, false)).dump());
  }
  if (tok.decode(want_special, false) == expected_text("decoded_special"))
    ++t.decoded_special;
  else
    note("decode(special)");
  if (tok.decode(want_special, true) == expected_text("decoded_skip"))
    ++t.decoded_skip;
  else
    note("decode(skip_special)");
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, MatchesHuggingFaceTokenizers) {
  const auto dir = test::reference_dir("tokenizers");
  const auto golden_path = dir / GetParam() / "golden.json";
  if (!std::filesystem::exists(golden_path)) {
    GTEST_SKIP() << golden_path << " was not generated (SmolLM2 needs its GGUF in assets/models)";
  }
  const nlohmann::json golden = load_json(golden_path);
  const auto& where = golden["tokenizer"];
  const std::filesystem::path root =
      where["root"] == "reference" ? dir : std::filesystem::path(SLMQ_SOURCE_DIR);
  const Tokenizer tok = Tokenizer::from_file(root / where["path"].get<std::string>());

  const auto& cases = golden["cases"];
  constexpr std::size_t kThreads = 4;
  std::vector<Tally> tallies(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (std::size_t i = w; i < cases.size(); i += kThreads)
        check_case(tok, cases[i], i, tallies[w]);
    });
  }
  for (auto& th : threads) th.join();
  Tally t;
  for (const auto& part : tallies) t.add(part);

  std::size_t decodes_ok = 0;
  for (const auto& d : golden["decodes"]) {
    const auto ids = d["ids"].get<std::vector<std::int32_t>>();
    const bool ok = tok.decode(ids, false) == d["text"].get<std::string>() &&
                    tok.decode(ids, true) == d["text_skip"].get<std::string>();
    decodes_ok += ok;
    if (!ok && t.failures.size() < 8) t.failures.push_back("random-id decode " + show(ids));
  }
  const auto rate = [&](std::size_t n) { return fmt::format("{}/{}", n, t.total); };
  std::cout << fmt::format(
      "[{}] strings {}: ids {}, ids+special {}, decode {}, decode+special {}, decode skip {}; "
      "random-id decodes {}/{}\n",
      GetParam(), t.total, rate(t.ids), rate(t.ids_special), rate(t.decoded),
      rate(t.decoded_special), rate(t.decoded_skip), decodes_ok, golden["decodes"].size());
  for (const auto& f : t.failures) ADD_FAILURE() << f;
  // Real tokenizers: 10,000 dataset strings plus adversarial ones; synthetic: 1,500 plus.
  EXPECT_GE(t.total, GetParam().starts_with("synthetic") ? 3000u : 11000u);
  EXPECT_EQ(t.ids, t.total);
  EXPECT_EQ(t.ids_special, t.total);
  EXPECT_EQ(t.decoded, t.total);
  EXPECT_EQ(t.decoded_special, t.total);
  EXPECT_EQ(t.decoded_skip, t.total);
  EXPECT_EQ(decodes_ok, golden["decodes"].size());
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
      load_json(test::reference_dir("tokenizers") / "unicode_classes.json");
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
