#pragma once
// The unit the evaluator hands a LanguageModel to score: token rows sharing a prefix.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace slmq::eval {

// Token rows that share a prefix: row i = prefix + suffixes[i]. A row's model input is the row
// without its last token; the tokens row[score_from[i]:] are scored, each predicted from the
// tokens before it. Requires 1 <= prefix.size() <= score_from[i] < row size.
struct ScoreGroup {
  std::vector<int64_t> prefix;
  std::vector<std::vector<int64_t>> suffixes;
  std::vector<size_t> score_from;

  size_t row_size(size_t i) const { return prefix.size() + suffixes[i].size(); }
  // For each suffix, the first suffix with the same input tokens (all but the last token): rows
  // that differ only in their last token (MMLU's one-token answers) share their input slots.
  std::vector<size_t> input_owners() const;
  // Input tokens a model computes when the prefix and equal suffix inputs are shared: prefix +
  // each distinct suffix input.
  size_t packed_size() const;
};

}  // namespace slmq::eval
