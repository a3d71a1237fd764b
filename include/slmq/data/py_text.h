#pragma once
// Python `str` semantics on UTF-8 strings, as lm-eval's task code applies them: whitespace is
// Python's str.isspace() set, lengths are code points, replace is one left-to-right pass.
// Invalid UTF-8 input throws DataError.
#include <cstddef>
#include <string>
#include <string_view>

namespace slmq::data {

// Python str.isspace() for one code point.
bool is_py_space(char32_t cp);
// str.strip() / str.rstrip() with no argument.
std::string py_strip(std::string_view s);
std::string py_rstrip(std::string_view s);
// str.replace(from, to): one left-to-right pass over non-overlapping occurrences.
std::string py_replace(std::string_view s, std::string_view from, std::string_view to);
// len(str): the number of Unicode code points.
size_t py_len(std::string_view s);
// str.capitalize(): first code point title-cased, the rest lower-cased. Uses Unicode simple
// case mappings (utf8proc); CPython's full mappings differ for a handful of characters (ß, ŉ,
// ligatures, final sigma), which lm-eval's datasets do not contain in capitalised positions.
std::string py_capitalize(std::string_view s);
// len(re.split(r"\s+", s)): maximal runs of Python whitespace + 1 (edges count).
size_t py_whitespace_split_count(std::string_view s);
// str.isdigit() over the whole string for ASCII digits only (non-empty).
bool is_ascii_digits(std::string_view s);

}  // namespace slmq::data
