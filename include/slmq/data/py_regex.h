#pragma once
// Python `re` semantics for the patterns lm-eval's tasks use (hellaswag bracket removal, the
// wikitext detokenizer, gsm8k answer extraction), on PCRE2 in UTF mode. Both engines are
// leftmost backtracking matchers, so results agree for these patterns. Differences handled here:
// `.` excludes only "\n" (newline convention LF), unmatched groups read as "", and empty matches
// advance the way Python 3.7+ does. Python's Unicode `\s` is not PCRE2's: patterns spell it
// out with kPyWhitespaceClass.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace slmq::data {

// Python str.isspace() as a PCRE2 character class body (use inside [...]).
extern const char* const kPyWhitespaceClass;

class PyRegex {
 public:
  // Throws InternalError when the pattern does not compile (patterns are ours, not user input).
  explicit PyRegex(std::string_view pattern);
  ~PyRegex();
  PyRegex(PyRegex&&) noexcept;
  PyRegex& operator=(PyRegex&&) noexcept;

  // re.sub(pattern, repl, text): repl may reference groups as \1..\9; unmatched groups are "".
  std::string sub(std::string_view text, std::string_view repl) const;
  // re.findall(pattern, text): one entry per match; each entry is the list of group values, or
  // the whole match when the pattern has no groups.
  std::vector<std::vector<std::string>> findall(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slmq::data
