#include "slmq/eval/gsm8k_scoring.h"

#include <utf8proc.h>

#include <vector>

#include "slmq/data/py_regex.h"
#include "slmq/data/py_text.h"

namespace slmq::eval {
namespace {

const char* const kFallback = "[invalid]";

std::string first_nonempty(const std::vector<std::string>& groups) {
  for (const auto& g : groups) {
    if (!g.empty()) return g;
  }
  return kFallback;
}

std::string py_lower(const std::string& s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    utf8proc_int32_t cp = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + pos),
                                    static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
    if (n <= 0) return s;  // not UTF-8: compare bytes as they are
    utf8proc_uint8_t buf[4];
    const auto m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(m));
    pos += static_cast<size_t>(n);
  }
  return out;
}

std::string normalize(std::string s) {
  static const std::vector<data::PyRegex> kIgnore = [] {
    std::vector<data::PyRegex> v;
    for (const char* p : {",", "\\$", "(?s).*#### ", "\\.$"}) v.emplace_back(p);
    return v;
  }();
  for (const auto& re : kIgnore) s = re.sub(s, "");
  return py_lower(s);
}

}  // namespace

std::string gsm8k_strict_match(const std::string& response) {
  static const data::PyRegex kStrict("#### (\\-?[0-9\\.\\,]+)");
  const auto matches = kStrict.findall(response);
  if (matches.empty()) return kFallback;
  return data::py_strip(matches.front().front());
}

std::string gsm8k_flexible_extract(const std::string& response) {
  static const data::PyRegex kFlexible("(-?[$0-9.,]{2,})|(-?[0-9]+)");
  const auto matches = kFlexible.findall(response);
  if (matches.empty()) return kFallback;
  return data::py_strip(first_nonempty(matches.back()));
}

double gsm8k_exact_match(const std::string& prediction, const std::string& reference) {
  return normalize(prediction) == normalize(reference) ? 1.0 : 0.0;
}

}  // namespace slmq::eval
