// merge_shared_stems: which groups merge, and that every row keeps its tokens and scored range.
#include <gtest/gtest.h>

#include "slmq/eval/stem_merge.h"

namespace slmq::eval {
namespace {

using Tokens = std::vector<int64_t>;

Tokens run_of(int64_t token, size_t n) { return Tokens(n, token); }

Tokens join(Tokens a, const Tokens& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A four-choice item with one-token answers: context + {5, 6, 7, 8}.
ScoreGroup item(const Tokens& context) {
  const size_t p = context.size();
  return {context, {{5}, {6}, {7}, {8}}, {p, p, p, p}};
}

// Every row of every input group is found, token for token, where `merged.where` says.
void expect_rows_kept(const std::vector<ScoreGroup>& in, const MergedGroups& merged) {
  ASSERT_EQ(merged.where.size(), in.size());
  for (size_t g = 0; g < in.size(); ++g) {
    ASSERT_EQ(merged.where[g].size(), in[g].suffixes.size());
    for (size_t i = 0; i < in[g].suffixes.size(); ++i) {
      const auto [mg, mi] = merged.where[g][i];
      const ScoreGroup& out = merged.groups[mg];
      EXPECT_EQ(join(out.prefix, out.suffixes[mi]), join(in[g].prefix, in[g].suffixes[i]));
      EXPECT_EQ(out.score_from[mi], in[g].score_from[i]);
    }
  }
}

TEST(StemMerge, ItemsSharingAFewShotStemBecomeOneGroup) {
  const Tokens stem = run_of(1, 40);
  std::vector<ScoreGroup> in = {item(join(stem, {20, 21, 22})), item(join(stem, {10, 11})),
                                item(join(stem, {30}))};
  const MergedGroups merged = merge_shared_stems(in, {.max_width = 2048, .min_stem = 32});
  ASSERT_EQ(merged.groups.size(), 1u);
  EXPECT_EQ(merged.groups[0].prefix, stem);
  // The stem once, each item's own tokens once (its four answers share their inputs).
  EXPECT_EQ(merged.groups[0].packed_size(), 40u + 3 + 2 + 1);
  expect_rows_kept(in, merged);
}

TEST(StemMerge, ShortOrMinorStemsAndDisabledMergingLeaveGroupsAlone) {
  const std::vector<ScoreGroup> short_stem = {item(join(run_of(1, 20), {2})),
                                              item(join(run_of(1, 20), {3}))};
  EXPECT_EQ(merge_shared_stems(short_stem, {.max_width = 2048, .min_stem = 32}).groups.size(), 2u);
  // A 40-token stem but 50 tokens of its own: merging would widen attention for little gain.
  const std::vector<ScoreGroup> minor = {item(join(run_of(1, 40), run_of(2, 50))),
                                         item(join(run_of(1, 40), {3}))};
  const MergedGroups kept = merge_shared_stems(minor, {.max_width = 2048, .min_stem = 32});
  EXPECT_EQ(kept.groups.size(), 2u);
  expect_rows_kept(minor, kept);
  const std::vector<ScoreGroup> same = {item(join(run_of(1, 40), {2})),
                                        item(join(run_of(1, 40), {3}))};
  EXPECT_EQ(merge_shared_stems(same, {.max_width = 0, .min_stem = 32}).groups.size(), 2u);
}

TEST(StemMerge, MergedGroupsStayWithinTheWidth) {
  const Tokens stem = run_of(1, 40);
  std::vector<ScoreGroup> in;
  for (int64_t q = 0; q < 10; ++q) in.push_back(item(join(stem, run_of(100 + q, 10))));
  const MergedGroups merged = merge_shared_stems(in, {.max_width = 100, .min_stem = 32});
  // 40 + 10 per item: five items fit in 100 tokens, so ten items make two groups.
  ASSERT_EQ(merged.groups.size(), 2u);
  for (const auto& g : merged.groups) EXPECT_LE(g.packed_size(), 100u);
  expect_rows_kept(in, merged);
}

TEST(StemMerge, TheStemIsWhatAllMembersShare) {
  // Sorted order puts the three stem-sharing items together although they were apart; the
  // stem is their common part (41 tokens), not the longer one the first two share.
  const Tokens stem = run_of(1, 41);
  std::vector<ScoreGroup> in = {item(join(stem, {9, 9, 4})), item(run_of(50, 3)),
                                item(join(stem, {9, 9, 5})), item(join(stem, {8}))};
  const MergedGroups merged = merge_shared_stems(in, {.max_width = 2048, .min_stem = 32});
  ASSERT_EQ(merged.groups.size(), 2u);
  const auto [g, row] = merged.where[0][0];
  EXPECT_EQ(merged.groups[g].prefix, stem);
  EXPECT_EQ(merged.groups[g].suffixes.size(), 12u);
  expect_rows_kept(in, merged);
}

}  // namespace
}  // namespace slmq::eval
