#pragma once
// PCRE2-backed regular expressions with the matching semantics of HF tokenizers' Oniguruma
// (`onig` crate) build: Unicode classes, look-around, and its find_iter rule for empty matches.
// Every match runs under a match limit, so a hostile pattern fails with DataError instead of
// hanging. Thread-safe: one compiled pattern serves concurrent callers.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slmq/tokenizer/json_view.h"

namespace slmq::tokenizer {

// [start, end) byte offsets of one match.
using Span = std::pair<std::size_t, std::size_t>;

class Regex {
 public:
  // `pattern` uses Oniguruma syntax as written in tokenizer.json; `where` names it in errors.
  Regex(std::string_view pattern, std::string where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // A regex matching `literal` exactly.
  static Regex literal(std::string_view literal, std::string where);

  // All non-overlapping matches, left to right (valid UTF-8 input). An empty match directly
  // after the previous match is skipped, as the `onig` crate's iterator does.
  void find_all(std::string_view text, std::vector<Span>& out) const;

  // Whether the pattern matches a prefix of `text` starting exactly at offset 0.
  bool matches_at_start(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  std::string pattern_;
  std::string where_;
  std::unique_ptr<Compiled> compiled_;
  // Set for a non-empty literal(): matched with a plain substring search, no PCRE2 call.
  std::string literal_;
};

// Rewrites an Oniguruma pattern for PCRE2 where the two disagree: `\s` (Oniguruma: the Z
// categories plus [\t\n\v\f\r\x20\x85]; PCRE2 with UCP leaves out U+0085), and the general
// categories (PCRE2 10.42 knows Unicode 14, Oniguruma 16: for the categories L, N, M, P and S,
// written
// `\p{X}` / `\P{X}`, the code points assigned since are added).
std::string translate_onig_pattern(std::string_view pattern);

// The regex of a tokenizer.json "pattern" node: {"String": literal} or {"Regex": pattern}.
Regex regex_from_pattern_node(const JsonView& node);

// Escapes `literal` so that PCRE2 matches it verbatim.
std::string escape_regex(std::string_view literal);

}  // namespace slmq::tokenizer
