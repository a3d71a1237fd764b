#include "slmq/data/py_text.h"

#include <utf8proc.h>

#include <vector>

#include "slmq/core/error.h"

namespace slmq::data {
namespace {

struct Decoded {
  char32_t cp;
  size_t begin;
  size_t end;
};

std::vector<Decoded> decode(std::string_view s) {
  std::vector<Decoded> out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    utf8proc_int32_t cp = 0;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data() + pos);
    const utf8proc_ssize_t n =
        utf8proc_iterate(p, static_cast<utf8proc_ssize_t>(s.size() - pos), &cp);
    if (n <= 0) throw DataError("invalid UTF-8 at byte " + std::to_string(pos));
    out.push_back({static_cast<char32_t>(cp), pos, pos + static_cast<size_t>(n)});
    pos += static_cast<size_t>(n);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  utf8proc_uint8_t buf[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

}  // namespace

bool is_py_space(char32_t cp) {
  // CPython's _PyUnicode_IsWhitespace: bidi classes WS, B, S and category Zs.
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f)) return true;
  switch (cp) {
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

std::string py_rstrip(std::string_view s) {
  const auto cps = decode(s);
  size_t end = cps.size();
  while (end > 0 && is_py_space(cps[end - 1].cp)) --end;
  return std::string(s.substr(0, end == 0 ? 0 : cps[end - 1].end));
}

std::string py_strip(std::string_view s) {
  const auto cps = decode(s);
  size_t begin = 0, end = cps.size();
  while (begin < end && is_py_space(cps[begin].cp)) ++begin;
  while (end > begin && is_py_space(cps[end - 1].cp)) --end;
  if (begin == end) return {};
  return std::string(s.substr(cps[begin].begin, cps[end - 1].end - cps[begin].begin));
}

std::string py_replace(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) throw InternalError("py_replace: empty pattern is not supported");
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

size_t py_len(std::string_view s) { return decode(s).size(); }

std::string py_capitalize(std::string_view s) {
  const auto cps = decode(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const auto cp = static_cast<utf8proc_int32_t>(cps[i].cp);
    append_utf8(out, static_cast<char32_t>(i == 0 ? utf8proc_totitle(cp) : utf8proc_tolower(cp)));
  }
  return out;
}

size_t py_whitespace_split_count(std::string_view s) {
  size_t runs = 0;
  bool in_run = false;
  for (const auto& d : decode(s)) {
    const bool space = is_py_space(d.cp);
    if (space && !in_run) ++runs;
    in_run = space;
  }
  return runs + 1;
}

bool is_ascii_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace slmq::data
