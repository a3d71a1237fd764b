#pragma once
// tokenizer.json pre-tokenizers: Split (every behavior, invert), ByteLevel, Metaspace, Digits,
// WhitespaceSplit, Sequence. A pre-tokenizer cuts normalized fragments into smaller fragments
// (and may rewrite them); the model then encodes each fragment on its own.
#include <memory>
#include <string>
#include <vector>

#include "slmq/tokenizer/json_view.h"
#include "slmq/tokenizer/regex.h"

namespace slmq::tokenizer {

struct Fragment {
  std::string text;
  // True when the fragment starts at offset 0 of the original input (Metaspace "first").
  bool at_origin = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `fragments` by their pieces; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<Fragment>& fragments) const = 0;
};

// HF's SplitDelimiterBehavior: what becomes of the matched delimiters.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// A piece of a fragment and whether it is a match of the split pattern.
struct MatchSpan {
  Span span;
  bool is_match;
};

// The pieces of `text` after a split with `behavior`, given `matches` covering all of `text`
// in order (HF's `NormalizedString::split`). Empty pieces are included; callers drop them.
std::vector<Span> apply_split_behavior(const std::vector<MatchSpan>& matches,
                                       SplitBehavior behavior);

// Covers `text` with the matches of `regex` and the gaps between them (HF's Pattern).
void regex_match_spans(const Regex& regex, std::string_view text, std::vector<MatchSpan>& out);

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonView& node);

}  // namespace slmq::tokenizer
