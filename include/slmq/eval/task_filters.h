#pragma once
// lm-eval's answer extraction and exact-match scoring for generate_until task files: the filter
// pipelines of `filter_list` (lm_eval/filters: regex, take_first, lowercase, uppercase,
// remove_whitespace) and the `exact_match` metric with its options (HF evaluate's exact_match as
// lm-eval calls it).
#include <cstdint>
#include <string>
#include <vector>

namespace slmq::eval {

struct FilterStep {
  std::string function;  // regex | take_first | lowercase | uppercase | remove_whitespace
  std::string regex_pattern = "#### (\\-?[0-9\\.\\,]+)";  // RegexFilter's defaults
  int64_t group_select = 0;
  std::string fallback = "[invalid]";
};

struct FilterSpec {
  std::string name;
  std::vector<FilterStep> steps;
};

struct MetricSpec {
  std::string metric;  // acc, acc_norm, perplexity, word_perplexity, ..., exact_match
  // exact_match options
  bool ignore_case = false, ignore_punctuation = false, ignore_numbers = false;
  std::vector<std::string> regexes_to_ignore;
};

// RegexFilter on one response: re.findall; the match at group_select (Python indexing); a match
// with several groups gives its first non-empty group (else the fallback); the result stripped.
// No match gives the fallback; a group_select beyond the matches (an IndexError in Python) throws
// DataError. ConfigError when the pattern does not compile.
std::string regex_filter(const FilterStep& step, const std::string& response);
// The steps of a pipeline in order (take_first is the identity on one response).
std::string apply_filter(const FilterSpec& spec, std::string response);
// 1.0 when prediction and reference agree after regexes_to_ignore (re.sub with ""), lower-casing
// and removing ASCII punctuation / digits as the options ask; else 0.0.
double exact_match(const MetricSpec& options, std::string prediction, std::string reference);

}  // namespace slmq::eval
