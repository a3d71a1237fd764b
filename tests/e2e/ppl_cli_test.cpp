// `slmquant ppl` end to end: the full WikiText-2 test corpus from assets/data, the tiny models of
// scripts/reference/gen_token_ppl.py, four 128-token windows; numbers against the GPTQ loop and
// llama.cpp's KL statistics computed there (tolerances as tests/reference/token_ppl_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "slmq/io/json_file.h"
#include "support/run_cli.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::filesystem::path ref_file(const std::string& name) {
  return test::reference_dir("token_ppl") / name;
}

using test::data_dir;

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

TEST(PplCli, WikiTokenPerplexityAndKlAgainstReference) {
  const auto cases = read_json_file(ref_file("cases.json"));
  const auto& cli = cases["cli"];
  test::TempDir out;
  const auto r = test::run_cli("ppl " + ref_file("tiny_rtn4").string() + " --baseline " +
                               ref_file("tiny").string() +
                               " --device cpu --seqlen 128 --limit-windows 4 --data-dir " +
                               data_dir() + " --out " + out.path().string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j, read_json_file(out.path() / "ppl.json"));
  // The run's result layout holds the same numbers (pipeline/run_ppl.h serves both).
  const auto result = read_json_file(out.path() / "result.json");
  EXPECT_EQ(result["status"], "ok");
  EXPECT_EQ(result["ppl"]["wiki_token_perplexity"], j["wiki_token_perplexity"]);
  EXPECT_EQ(result["ppl"]["kl_divergence"], j["kl_divergence"]);
  EXPECT_EQ(result["eval"]["tasks"]["wiki_token_ppl"]["value"], j["wiki_token_perplexity"]["ppl"]);
  EXPECT_EQ(result["config"]["ppl"]["baseline"], ref_file("tiny").string());
  const auto& ppl = j["wiki_token_perplexity"];
  EXPECT_EQ(ppl["metric"], "wiki_token_perplexity");
  EXPECT_EQ(ppl["windows"].get<int64_t>(), cli["windows"].get<int64_t>());
  EXPECT_EQ(ppl["corpus_tokens"].get<int64_t>(), cli["ppl_test"]["corpus_tokens"].get<int64_t>());
  EXPECT_LE(rel(ppl["ppl"].get<double>(), cli["ppl_test"]["ppl"].get<double>()), 1e-5);
  const auto& kl = j["kl_divergence"];
  EXPECT_EQ(kl["positions"], "second-half");
  EXPECT_EQ(kl["count"].get<int64_t>(), cli["kl"]["count"].get<int64_t>());
  EXPECT_NEAR(kl["kl_mean"]["value"].get<double>(), cli["kl"]["kl_mean"].get<double>(), 1e-5);
  EXPECT_NEAR(kl["kl_percentiles"]["p99"].get<double>(),
              cli["kl"]["kl_percentiles"]["p99"].get<double>(), 1e-5);
  EXPECT_LE(std::abs(kl["same_top"].get<int64_t>() - cli["kl"]["same_top"].get<int64_t>()),
            cli["kl"]["ambiguous_top"].get<int64_t>());
  EXPECT_LE(rel(kl["base_wiki_token_perplexity"]["ppl"].get<double>(),
                cli["ppl_base"]["ppl"].get<double>()),
            1e-5);
  EXPECT_EQ(j["corpus"]["rows"].get<int64_t>(),
            read_json_file(ref_file("corpus.json"))["rows"].get<int64_t>());
}

TEST(PplCli, TextOutputNamesTheMetric) {
  const auto r =
      test::run_cli("ppl " + ref_file("tiny").string() +
                    " --device cpu --seqlen 128 --limit-windows 1 --data-dir " + data_dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wiki token perplexity (non-overlapping 128-token windows"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("not lm-eval's wikitext word_perplexity"), std::string::npos) << r.out;
}

TEST(PplCli, SeqlenBeyondTheModelIsOneClearError) {
  const auto r = test::run_cli("ppl " + ref_file("tiny").string() +
                               " --device cpu --seqlen 4096 --data-dir " + data_dir());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--seqlen: 4096 exceeds the model's max_position_embeddings 512"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace slmq
