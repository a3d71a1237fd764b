#pragma once
// Merging score groups that share a long common stem (MMLU few-shot: every question of a subject
// starts with the same description and the same five dev examples), so a packed row computes the
// stem once for many items instead of once per item, which lm-eval does not do.
//
// Groups are ordered by their prefix tokens; neighbours whose longest common prefix is the larger
// part of every member join one ScoreGroup whose prefix is that stem and whose suffixes are the
// members' rows after it (score_from unchanged, so every scored token keeps its position and the
// keys it sees). A merged group never computes more than `max_width` tokens.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "slmq/eval/score_group.h"

namespace slmq::eval {

struct StemMergeOptions {
  int64_t max_width = 8192;  // tokens a merged group computes; 0 disables merging
  int64_t min_stem = 32;     // shorter common prefixes are not worth merging
};

struct MergedGroups {
  std::vector<ScoreGroup> groups;
  // For each input group g and its row i: (merged group, row within it) = where[g][i].
  std::vector<std::vector<std::pair<size_t, size_t>>> where;
};

MergedGroups merge_shared_stems(const std::vector<ScoreGroup>& groups,
                                const StemMergeOptions& options);

}  // namespace slmq::eval
