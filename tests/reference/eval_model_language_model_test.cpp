// ModelLanguageModel's shared-prefix packing (with shared equal suffix inputs and merged stems)
// and chunked long rows against the plain path: one
// Model::forward per row (itself checked against transformers in model_parity_test), float32
// log_softmax, summed over the scored tokens. The tiny reference models cover full attention and
// a sliding window of 5 (mistral_window), where a wrong position in the packed mask shows at once.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "slmq/eval/model_language_model.h"
#include "slmq/eval/stem_merge.h"
#include "slmq/model/model_loader.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using Tokens = std::vector<int64_t>;

// fp32: the packed row computes the same dot products in other matmul shapes, so logits differ
// by float rounding (~1e-6); a sum of <= 40 log-probabilities stays well within 1e-4.
constexpr double kTolerance = 1e-4;

Tokens random_tokens(size_t n, uint64_t& state, int64_t vocab) {
  Tokens out;
  for (size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    out.push_back(static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(vocab)));
  }
  return out;
}

TokenScore plain_score(const Model& model, const Tokens& row, size_t score_from) {
  Tokens input(row.begin(), row.end() - 1);
  at::Tensor ids = at::tensor(input, at::kLong).view({1, static_cast<int64_t>(input.size())});
  at::Tensor logp = at::log_softmax(model.forward(ids, at::Tensor())[0].to(at::kFloat), -1);
  TokenScore s;
  for (size_t j = score_from; j < row.size(); ++j) {
    s.loglikelihood += logp[static_cast<int64_t>(j) - 1][row[j]].item<double>();
    s.is_greedy =
        s.is_greedy && logp[static_cast<int64_t>(j) - 1].argmax().item<int64_t>() == row[j];
  }
  return s;
}

class PackedScoring : public ::testing::TestWithParam<const char*> {};

TEST_P(PackedScoring, EqualsOneForwardPerRow) {
  auto model = load_model(test::reference_dir("tiny_models") / GetParam(), {});
  const int64_t vocab = model->config().vocab_size;
  Tokenizer tokenizer =
      Tokenizer::from_file(test::reference_dir("tokenizers") / "synthetic_llama2");
  uint64_t state = 42;
  std::vector<ScoreGroup> groups;
  {  // multiple choice: one prefix, continuations of several lengths, one scored from inside
    ScoreGroup g{random_tokens(12, state, vocab), {}, {}};
    for (size_t len : {1u, 4u, 7u, 3u}) {
      g.suffixes.push_back(random_tokens(len, state, vocab));
      g.score_from.push_back(12);
    }
    g.score_from.back() = 13;
    groups.push_back(g);
  }
  groups.push_back({random_tokens(5, state, vocab), {random_tokens(20, state, vocab)}, {5}});
  groups.push_back({random_tokens(1, state, vocab), {random_tokens(30, state, vocab)}, {1}});
  groups.push_back({random_tokens(9, state, vocab),
                    {random_tokens(2, state, vocab), random_tokens(2, state, vocab)},
                    {9, 9}});
  {  // equal inputs (rows differing only in their last token) share slots, as MMLU's answers
    const Tokens shared = random_tokens(6, state, vocab);
    ScoreGroup g{random_tokens(7, state, vocab), {}, {}};
    for (int64_t last : {3, 11, 3, 29}) {
      g.suffixes.push_back(shared);
      g.suffixes.back().push_back(last);
      g.score_from.push_back(7 + 6);
    }
    g.score_from[1] = 7;  // one row scored over its whole continuation
    groups.push_back(g);
  }
  {  // items sharing a stem, merged as stem_merge.h does: one prefix, each item's rest after it
    const Tokens stem = random_tokens(10, state, vocab);
    std::vector<ScoreGroup> items;
    for (size_t len : {3u, 5u, 4u}) {
      Tokens prefix = stem;
      for (int64_t t : random_tokens(len, state, vocab)) prefix.push_back(t);
      const size_t p = prefix.size();
      items.push_back({prefix, {{5}, {9}, random_tokens(3, state, vocab)}, {p, p, p}});
    }
    const MergedGroups merged = merge_shared_stems(items, {.max_width = 256, .min_stem = 8});
    ASSERT_EQ(merged.groups.size(), 1u);
    ASSERT_EQ(merged.groups[0].prefix, stem);
    groups.push_back(merged.groups[0]);
  }

  auto check = [&](const std::vector<std::vector<TokenScore>>& got, size_t first_group,
                   const std::string& what) {
    for (size_t g = 0; g < got.size(); ++g) {
      const ScoreGroup& group = groups[first_group + g];
      for (size_t i = 0; i < got[g].size(); ++i) {
        Tokens row = group.prefix;
        row.insert(row.end(), group.suffixes[i].begin(), group.suffixes[i].end());
        TokenScore want = plain_score(*model, row, group.score_from[i]);
        EXPECT_NEAR(got[g][i].loglikelihood, want.loglikelihood, kTolerance)
            << what << " group " << first_group + g << " row " << i;
        EXPECT_EQ(got[g][i].is_greedy, want.is_greedy) << what << " group " << first_group + g;
      }
    }
  };
  ModelLanguageModel lm(*model, std::move(tokenizer), 256);
  check(lm.score(groups), 0, "one batch");
  for (size_t g = 0; g < groups.size(); ++g) check(lm.score({groups[g]}), g, "alone");

  // A single long row through the KV cache in chunks of 8 tokens.
  ModelLanguageModelOptions chunked;
  chunked.chunk_tokens = 8;
  ModelLanguageModel lm_chunked(
      *model, Tokenizer::from_file(test::reference_dir("tokenizers") / "synthetic_llama2"), 256,
      chunked);
  check(lm_chunked.score({groups[2]}), 2, "chunked");
  check(lm_chunked.score({groups[1]}), 1, "chunked");

  // Every group with two distinct continuation inputs computes its prefix once and scores each
  // input as its own row over the prefix's keys and values; a token budget of 40 splits the
  // merged group's rows over several passes.
  ModelLanguageModelOptions shared;
  shared.shared_prefix_width = 1;
  shared.max_batch_tokens = 40;
  ModelLanguageModel lm_shared(
      *model, Tokenizer::from_file(test::reference_dir("tokenizers") / "synthetic_llama2"), 256,
      shared);
  check(lm_shared.score(groups), 0, "shared prefix");
}

INSTANTIATE_TEST_SUITE_P(TinyModels, PackedScoring,
                         ::testing::Values("llama_tied", "qwen2_bias_tied", "mistral_window"),
                         [](const auto& info) { return std::string(info.param); });

TEST(LmEvalMaxLength, FollowsHflmOrder) {
  using nlohmann::json;
  EXPECT_EQ(lm_eval_max_length(json{{"n_positions", 1024}, {"max_position_embeddings", 8}}, {}),
            1024);
  EXPECT_EQ(lm_eval_max_length(json{{"max_position_embeddings", 8192}}, {}), 8192);
  EXPECT_EQ(lm_eval_max_length(json::object(), json{{"model_max_length", 4096}}), 4096);
  EXPECT_EQ(lm_eval_max_length(json::object(), json{{"model_max_length", 1e30}}), 2048);
  EXPECT_EQ(lm_eval_max_length(json::object(), json::object()), 2048);
}

}  // namespace
}  // namespace slmq::eval
