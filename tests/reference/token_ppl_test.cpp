// The 'Wiki' token perplexity and the KL divergence against independent references written from
// the official code (scripts/reference/gen_token_ppl.py): the HF wikitext dataset script's rows,
// HF tokenizers' ids, GPTQ's llama_eval loop in torch and llama.cpp's KL statistics in
// numpy/torch float64, on a tiny random Llama with the SmolLM2 tokenizer and its RTN-4-bit copy.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/wikitext.h"
#include "slmq/eval/kl_divergence.h"
#include "slmq/eval/token_perplexity.h"
#include "slmq/eval/wiki_corpus.h"
#include "slmq/io/json_file.h"
#include "slmq/model/model_loader.h"
#include "slmq/model/model_tokenizer.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

// Tolerances (fp32 models). The forwards follow transformers op for op; what differs is the
// accumulation order inside matmul and attention kernels, ~1e-6 on logits of magnitude ~1
// (model_parity_test). A log-probability then moves by ~1e-6 and a mean NLL over thousands of
// tokens by less, so ppl = exp(nll) agrees to ~1e-6 relative: 1e-5 leaves a 10x margin.
constexpr double kPplRelTolerance = 1e-5;
// Per-position KL (values 0.003..0.4 here) is a difference of two such log-probabilities weighted
// by p_base: bounded by ~2e-6 absolute; 1e-5 absolute leaves a 5x margin, and statistics of KL
// values (mean, median, percentiles) inherit the same bound.
constexpr double kKlAbsTolerance = 1e-5;
// Uncertainties are standard errors, computed from the same per-position values: 1e-4 relative.
constexpr double kUncRelTolerance = 1e-4;

std::filesystem::path ref_file(const std::string& name) {
  return test::reference_dir("token_ppl") / name;
}

std::filesystem::path data_dir() {
  const char* env = std::getenv("SLMQ_DATA_DIR");
  return env ? std::filesystem::path(env)
             : std::filesystem::path(SLMQ_SOURCE_DIR) / "assets" / "data";
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

template <typename T>
std::vector<T> read_binary(const std::filesystem::path& p) {
  const std::string bytes = read_bytes(p);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

const nlohmann::json& cases() {
  static const nlohmann::json c = read_json_file(ref_file("cases.json"));
  return c;
}

std::unique_ptr<Model> tiny(const std::string& name) {
  return load_model(ref_file(name), LoadOptions{c10::kFloat, c10::Device(c10::kCPU)});
}

std::vector<int64_t> short_corpus(BosPolicy bos) {
  const auto rows = data::load_wikitext2_test_rows(data_dir());
  const Tokenizer tok = load_model_tokenizer(ref_file("tiny"));
  return tokenize_corpus(join_corpus_rows(rows, cases()["short_rows"].get<size_t>()), tok, bos);
}

void expect_rel(double actual, double expected, double tol, const std::string& what) {
  const double rel = std::abs(actual - expected) / std::abs(expected);
  std::cout << "[token_ppl] " << what << ": " << actual << " vs " << expected << " (rel " << rel
            << ")\n";
  EXPECT_LE(rel, tol) << what;
}

TEST(WikiCorpus, SyntheticRawGivesTheDatasetScriptRows) {
  const auto expected =
      read_json_file(ref_file("synthetic_rows.json")).get<std::vector<std::string>>();
  EXPECT_EQ(data::wikitext_rows_from_raw(read_bytes(ref_file("synthetic_raw.txt"))), expected);
}

TEST(WikiCorpus, JoinedTestTextEqualsHfRowsJoined) {
  const auto rows = data::load_wikitext2_test_rows(data_dir());
  const auto info = read_json_file(ref_file("corpus.json"));
  EXPECT_EQ(static_cast<int64_t>(rows.size()), info["rows"].get<int64_t>());
  const std::string joined = join_corpus_rows(rows);
  const std::string expected = read_bytes(ref_file("corpus.txt"));
  ASSERT_EQ(joined.size(), expected.size());
  const auto mismatch = std::mismatch(joined.begin(), joined.end(), expected.begin());
  EXPECT_TRUE(mismatch.first == joined.end())
      << "first difference at byte " << (mismatch.first - joined.begin());
}

TEST(WikiCorpus, FullTestTokensEqualHfTokenizer) {
  const Tokenizer tok = load_model_tokenizer(ref_file("tiny"));
  const auto ids =
      tokenize_corpus(read_bytes(ref_file("corpus.txt")), tok, BosPolicy::kTokenizerDefault);
  const auto expected = read_binary<int32_t>(ref_file("full_ids.i32"));
  ASSERT_EQ(ids.size(), expected.size());
  EXPECT_TRUE(std::equal(ids.begin(), ids.end(), expected.begin()));
}

TEST(TokenPerplexity, MatchesGptqEvalLoop) {
  const auto model = tiny("tiny");
  for (const auto& [key, bos] : {std::pair{"default", BosPolicy::kTokenizerDefault},
                                 std::pair{"always", BosPolicy::kAlways}}) {
    const auto& c = cases()["ppl"][key];
    const auto tokens = short_corpus(bos);
    ASSERT_EQ(static_cast<int64_t>(tokens.size()), c["corpus_tokens"].get<int64_t>()) << key;
    // Three windows per forward, and a window count that three does not divide.
    const WindowSpec spec{cases()["seqlen"].get<int64_t>(), 0, 3};
    const auto r = token_perplexity(*model, tokens, spec);
    EXPECT_EQ(r.windows, c["windows"].get<int64_t>()) << key;
    EXPECT_EQ(r.predictions, r.windows * (spec.seqlen - 1));
    expect_rel(r.ppl, c["ppl"].get<double>(), kPplRelTolerance, std::string("ppl bos ") + key);
    expect_rel(r.nll, c["nll"].get<double>(), kPplRelTolerance, std::string("nll bos ") + key);
  }
}

TEST(TokenPerplexity, LimitWindowsScoresTheFirstWindows) {
  const auto model = tiny("tiny");
  const auto tokens = short_corpus(BosPolicy::kTokenizerDefault);
  const int64_t seqlen = cases()["seqlen"].get<int64_t>();
  const auto all = token_perplexity(*model, tokens, {seqlen, 0, 1});
  const auto first = token_perplexity(*model, tokens, {seqlen, 5, 2});
  ASSERT_EQ(first.windows, 5);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(first.window_nll[i], all.window_nll[i], 1e-9);
}

void expect_kl_matches(const KlDivergenceResult& r, const nlohmann::json& c,
                       const std::vector<double>& values) {
  const auto& s = r.stats;
  ASSERT_EQ(s.count, c["count"].get<int64_t>());
  ASSERT_EQ(s.kl_values.size(), values.size());
  double max_diff = 0;
  for (size_t i = 0; i < values.size(); ++i)
    max_diff = std::max(max_diff, std::abs(s.kl_values[i] - values[i]));
  std::cout << "[token_ppl] per-position KL max |diff| " << max_diff << "\n";
  EXPECT_LE(max_diff, kKlAbsTolerance);
  EXPECT_NEAR(s.kl_mean.value, c["kl_mean"].get<double>(), kKlAbsTolerance);
  expect_rel(s.kl_mean.uncertainty, c["kl_mean_uncertainty"].get<double>(), kUncRelTolerance,
             "KL mean uncertainty");
  EXPECT_NEAR(s.kl_median, c["kl_median"].get<double>(), kKlAbsTolerance);
  EXPECT_NEAR(s.kl_max, c["kl_max"].get<double>(), kKlAbsTolerance);
  EXPECT_NEAR(s.kl_min, c["kl_min"].get<double>(), kKlAbsTolerance);
  for (const auto& [name, value] : c["kl_percentiles"].items())
    EXPECT_NEAR(s.kl_percentiles.at(name), value.get<double>(), kKlAbsTolerance) << name;
  // Argmax agreement is exact except where a top-1/top-2 gap is under 1e-4 (the reference counts
  // those positions), far above fp32 logit differences (~1e-6).
  EXPECT_LE(std::abs(s.same_top - c["same_top"].get<int64_t>()), c["ambiguous_top"].get<int64_t>());
  expect_rel(s.ppl_test.value, c["ppl_test"].get<double>(), kPplRelTolerance, "KL PPL(Q)");
  expect_rel(s.ppl_base.value, c["ppl_base"].get<double>(), kPplRelTolerance, "KL PPL(base)");
  expect_rel(s.ppl_test.uncertainty, c["ppl_test_uncertainty"].get<double>(), kUncRelTolerance,
             "PPL(Q) uncertainty");
  EXPECT_NEAR(s.ln_ppl_ratio.value, c["ln_ppl_ratio"].get<double>(), kPplRelTolerance);
  expect_rel(s.ln_ppl_ratio.uncertainty, c["ln_ppl_ratio_uncertainty"].get<double>(),
             kUncRelTolerance, "ln ratio uncertainty");
  expect_rel(s.ppl_ratio.value, c["ppl_ratio"].get<double>(), kPplRelTolerance, "PPL ratio");
  expect_rel(s.ppl_diff.value, c["ppl_diff"].get<double>(), 1e-3, "PPL diff");
  EXPECT_NEAR(s.ln_ppl_correlation, c["ln_ppl_correlation"].get<double>(), kUncRelTolerance);
  expect_rel(s.p_diff_rms.value, c["p_diff_rms"].get<double>(), 1e-3, "RMS dp");
}

class KlDivergence : public ::testing::TestWithParam<KlPositions> {};

TEST_P(KlDivergence, MatchesLlamaCppStatisticsInFloat64) {
  const std::string name = GetParam() == KlPositions::kSecondHalf ? "second_half" : "all";
  const auto base = tiny("tiny");
  const auto test = tiny("tiny_rtn4");
  const auto tokens = short_corpus(BosPolicy::kTokenizerDefault);
  const int64_t seqlen = cases()["seqlen"].get<int64_t>();
  const auto r = kl_divergence(*base, *test, tokens, {{seqlen, 0, 2}, GetParam()});
  const auto& c = cases()["kl"][name];
  EXPECT_EQ(r.windows, c["windows"].get<int64_t>());
  EXPECT_EQ(r.first_scored_logit, GetParam() == KlPositions::kSecondHalf ? seqlen / 2 : 0);
  expect_kl_matches(r, c, read_binary<double>(ref_file("kl_" + name + ".f64")));
  // The same pass gives both models' GPTQ-style perplexity over all positions.
  expect_rel(r.test_ppl.ppl, cases()["ppl"]["test_default"]["ppl"].get<double>(), kPplRelTolerance,
             "KL pass test ppl");
  expect_rel(r.base_ppl.ppl, cases()["ppl"]["default"]["ppl"].get<double>(), kPplRelTolerance,
             "KL pass base ppl");
}

INSTANTIATE_TEST_SUITE_P(Positions, KlDivergence,
                         ::testing::Values(KlPositions::kSecondHalf, KlPositions::kAll),
                         [](const auto& info) {
                           return info.param == KlPositions::kSecondHalf ? "SecondHalf" : "All";
                         });

TEST(TokenPerplexity, RejectsWindowsTheModelCannotScore) {
  const auto model = tiny("tiny");
  const auto tokens = short_corpus(BosPolicy::kTokenizerDefault);
  const int64_t max_pos = model->config().max_position_embeddings;
  EXPECT_THROW(token_perplexity(*model, tokens, {max_pos + 1, 0, 1}), ConfigError);
  EXPECT_THROW(token_perplexity(*model, tokens, {1, 0, 1}), ConfigError);
  EXPECT_THROW(token_perplexity(*model, std::span(tokens).first(100), {128, 0, 1}), DataError);
}

}  // namespace
}  // namespace slmq::eval
