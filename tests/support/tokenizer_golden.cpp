#include "support/tokenizer_golden.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "slmq/tokenizer/utf8.h"

namespace slmq::test {
namespace {

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

}  // namespace

nlohmann::json load_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::json::parse(buffer.str());
}

void expect_matches_golden(const Tokenizer& tok, const nlohmann::json& golden,
                           const std::string& label, std::size_t min_strings) {
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
      label, t.total, rate(t.ids), rate(t.ids_special), rate(t.decoded), rate(t.decoded_special),
      rate(t.decoded_skip), decodes_ok, golden["decodes"].size());
  for (const auto& f : t.failures) ADD_FAILURE() << f;
  // Real tokenizers: 10,000 dataset strings plus adversarial ones; synthetic: 1,500 plus.
  EXPECT_GE(t.total, min_strings);
  EXPECT_EQ(t.ids, t.total);
  EXPECT_EQ(t.ids_special, t.total);
  EXPECT_EQ(t.decoded, t.total);
  EXPECT_EQ(t.decoded_special, t.total);
  EXPECT_EQ(t.decoded_skip, t.total);
  EXPECT_EQ(decodes_ok, golden["decodes"].size());
}

}  // namespace slmq::test
