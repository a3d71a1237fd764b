// Text rules against lm-eval's own functions (hellaswag preprocess and process_docs on
// constructed raw rows), and the HF-schema exports written by `datasets` against the original
// layouts they were exported from.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "slmq/data/datasets.h"
#include "slmq/data/wikitext.h"
#include "slmq/eval/request.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using nlohmann::json;

std::filesystem::path ref(const std::string& file) {
  return test::reference_dir("lm_eval_requests") / file;
}

std::filesystem::path data_dir() {
  const char* env = std::getenv("SLMQ_DATA_DIR");
  return env ? std::filesystem::path(env)
             : std::filesystem::path(SLMQ_SOURCE_DIR) / "assets" / "data";
}

TEST(EvalHellaswagPreprocess, MatchesLmEvalOnConstructedText) {
  std::ifstream in(ref("hellaswag_preprocess.json"));
  const json cases = json::parse(in);
  ASSERT_FALSE(cases["preprocess"].empty());
  for (const auto& c : cases["preprocess"]) {
    EXPECT_EQ(data::hellaswag_preprocess(c[0].get<std::string>()), c[1].get<std::string>()) << c[0];
  }
  for (const auto& row : cases["rows"]) {
    const json& raw = row["raw"];
    data::HellaswagRaw r{raw["activity_label"], raw["ctx_a"], raw["ctx_b"],
                         raw["endings"].get<std::vector<std::string>>(),
                         std::stol(raw["label"].get<std::string>())};
    const data::HellaswagDoc d = data::hellaswag_process(r);
    EXPECT_EQ(d.query, row["query"].get<std::string>());
    EXPECT_EQ(d.choices, row["choices"].get<std::vector<std::string>>());
    EXPECT_EQ(d.gold, row["gold"].get<long>());
  }
}

TEST(EvalDatasets, HfExportOfMmluEqualsTheCsvLayout) {
  const auto csv = data::load_mmlu(data_dir(), "anatomy", "test");
  const auto hf = data::load_mmlu(ref("hf_data"), "anatomy", "test");
  ASSERT_EQ(csv.size(), 135u);
  ASSERT_EQ(hf.size(), csv.size());
  for (size_t i = 0; i < csv.size(); ++i) {
    EXPECT_EQ(hf[i].question, csv[i].question);
    EXPECT_EQ(hf[i].choices, csv[i].choices);
    EXPECT_EQ(hf[i].answer, csv[i].answer);
  }
}

TEST(EvalDatasets, HfExportOfPiqaEqualsTheOriginalLayout) {
  const auto original = data::load_piqa(data_dir(), "validation");
  const auto hf = data::load_piqa(ref("hf_data"), "validation");
  ASSERT_EQ(original.size(), 1838u);
  EXPECT_EQ(hf, original);
}

TEST(EvalDatasets, WikitextPagesRebuiltLikeTheReference) {
  const auto ours = data::load_wikitext_pages(data_dir());
  std::vector<std::string> reference;
  std::ifstream in(ref("hf_data") / "wikitext2" / "document_level" / "test.jsonl");
  for (std::string line; std::getline(in, line);) reference.push_back(json::parse(line)["page"]);
  EXPECT_EQ(ours.size(), 62u);
  ASSERT_EQ(ours.size(), reference.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(ours[i], reference[i]) << "page " << i;
}

TEST(EvalEncodePair, ContextWhitespaceMovesLikeLmEval) {
  std::ifstream in(ref("encode_pair.json"));
  const json cases = json::parse(in);
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    const auto [ctx, cont] =
        split_context_continuation(c[0].get<std::string>(), c[1].get<std::string>());
    EXPECT_EQ(ctx, c[2].get<std::string>()) << c.dump();
    EXPECT_EQ(cont, c[3].get<std::string>()) << c.dump();
  }
}

TEST(EvalWikitext, DetokenizerMatchesLmEvalOnEveryTestPage) {
  std::ifstream in(ref("wikitext_detokenized.json"));
  const json want = json::parse(in);
  const auto pages = data::load_wikitext_pages(data_dir());
  ASSERT_EQ(pages.size(), want.size());
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(data::wikitext_detokenize(pages[i]), want[i].get<std::string>()) << "page " << i;
  }
}

}  // namespace
}  // namespace slmq::eval
