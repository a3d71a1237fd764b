#define PCRE2_CODE_UNIT_WIDTH 8
#include "slmq/tokenizer/regex.h"

#include <fmt/format.h>
#include <pcre2.h>

#include "slmq/core/error.h"
#include "slmq/tokenizer/utf8.h"

namespace slmq::tokenizer {
namespace {

// Generous enough for any real pre-tokenizer pattern on any real text; small enough that
// catastrophic backtracking ends in well under a second.
constexpr uint32_t kMatchLimit = 10'000'000;
constexpr uint32_t kDepthLimit = 1'000'000;

constexpr std::string_view kOnigSpaceItems = R"(\t\n\x0B\f\r\x20\x{85}\p{Z})";

// Code points that Unicode 15.0-16.0 assigned to the general categories L, N, M, P and S: HF's
// Oniguruma (Unicode 16) has them in \p{L} etc., Debian's PCRE2 10.42 (Unicode 14) does not.
// Redundant with a newer PCRE2. tests/reference/tokenizer_golden_test.cpp compares every code
// point with Oniguruma.
struct RecentItems {
  char category;
  std::string_view items;
};
constexpr RecentItems kRecent[] = {
    {'L', R"(\x{1C89}-\x{1C8A}\x{A7CB}-\x{A7CD}\x{A7DA}-\x{A7DC}\x{105C0}-\x{105F3})"
          R"(\x{10D4A}-\x{10D65}\x{10D6F}-\x{10D85}\x{10EC2}-\x{10EC4}\x{1123F}-\x{11240})"
          R"(\x{11380}-\x{11389}\x{1138B}\x{1138E}\x{11390}-\x{113B5}\x{113B7}\x{113D1})"
          R"(\x{113D3}\x{11BC0}-\x{11BE0}\x{11F02}\x{11F04}-\x{11F10}\x{11F12}-\x{11F33})"
          R"(\x{1342F}\x{13441}-\x{13446}\x{13460}-\x{143FA}\x{16100}-\x{1611D})"
          R"(\x{16D40}-\x{16D6C}\x{18CFF}\x{1B132}\x{1B155}\x{1DF25}-\x{1DF2A})"
          R"(\x{1E030}-\x{1E06D}\x{1E4D0}-\x{1E4EB}\x{1E5D0}-\x{1E5ED}\x{1E5F0}\x{2B739})"
          R"(\x{2EBF0}-\x{2EE5D}\x{31350}-\x{323AF})"},
    {'N', R"(\x{10D40}-\x{10D49}\x{116D0}-\x{116E3}\x{11BF0}-\x{11BF9}\x{11F50}-\x{11F59})"
          R"(\x{16130}-\x{16139}\x{16D70}-\x{16D79}\x{1CCF0}-\x{1CCF9}\x{1D2C0}-\x{1D2D3})"
          R"(\x{1E4F0}-\x{1E4F9}\x{1E5F1}-\x{1E5FA})"},
    {'M', R"(\x{897}\x{CF3}\x{ECE}\x{10D69}-\x{10D6D}\x{10EFC}-\x{10EFF}\x{11241})"
          R"(\x{113B8}-\x{113C0}\x{113C2}\x{113C5}\x{113C7}-\x{113CA}\x{113CC}-\x{113D0})"
          R"(\x{113D2}\x{113E1}-\x{113E2}\x{11F00}-\x{11F01}\x{11F03}\x{11F34}-\x{11F3A})"
          R"(\x{11F3E}-\x{11F42}\x{11F5A}\x{13440}\x{13447}-\x{13455}\x{1611E}-\x{1612F})"
          R"(\x{1E08F}\x{1E4EC}-\x{1E4EF}\x{1E5EE}-\x{1E5EF})"},
    {'P', R"(\x{1B4E}-\x{1B4F}\x{1B7F}\x{10D6E}\x{113D4}-\x{113D5}\x{113D7}-\x{113D8})"
          R"(\x{11B00}-\x{11B09}\x{11BE1}\x{11F43}-\x{11F4F}\x{16D6D}-\x{16D6F}\x{1E5FF})"},
    {'S', R"(\x{2427}-\x{2429}\x{2FFC}-\x{2FFF}\x{31E4}-\x{31E5}\x{31EF}\x{10D8E}-\x{10D8F})"
          R"(\x{1CC00}-\x{1CCEF}\x{1CD00}-\x{1CEB3}\x{1F6DC}\x{1F774}-\x{1F776})"
          R"(\x{1F77B}-\x{1F77F}\x{1F7D9}\x{1F8B2}-\x{1F8BB}\x{1F8C0}-\x{1F8C1})"
          R"(\x{1FA75}-\x{1FA77}\x{1FA87}-\x{1FA89}\x{1FA8F}\x{1FAAD}-\x{1FAAF})"
          R"(\x{1FABB}-\x{1FABF}\x{1FAC6}\x{1FACE}-\x{1FACF}\x{1FADA}-\x{1FADC}\x{1FADF})"
          R"(\x{1FAE8}-\x{1FAE9}\x{1FAF7}-\x{1FAF8}\x{1FBCB}-\x{1FBEF})"},
};

// The recent items of `\p{X}` when `p` starts with `\p{X}` or `\P{X}` for a category above.
const RecentItems* recent_items(std::string_view p) {
  if (p.size() < 5 || (p[1] != 'p' && p[1] != 'P') || p[2] != '{' || p[4] != '}') return nullptr;
  for (const auto& r : kRecent) {
    if (r.category == p[3]) return &r;
  }
  return nullptr;
}

// Each thread matches with its own match data and JIT stack; compiled code is shared.
struct ThreadScratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  ~ThreadScratch() {
    pcre2_match_data_free(data);
    if (jit_stack) pcre2_jit_stack_free(jit_stack);
  }
};

ThreadScratch& scratch() {
  thread_local ThreadScratch s;
  return s;
}

pcre2_jit_stack* jit_stack_callback(void*) { return scratch().jit_stack; }

}  // namespace

struct Regex::Compiled {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  ~Compiled() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

std::string translate_onig_pattern(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 32);
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (const RecentItems* recent = recent_items(p.substr(i));
          recent && !(in_class && e == 'P')) {
        const std::string items = fmt::format("\\p{{{}}}{}", recent->category, recent->items);
        out += in_class ? items : fmt::format("[{}{}]", e == 'P' ? "^" : "", items);
        i += 4;
        continue;
      }
      if (e == 's') {
        out += in_class ? std::string(kOnigSpaceItems) : fmt::format("[{}]", kOnigSpaceItems);
      } else if (e == 'S' && !in_class) {
        out += fmt::format("[^{}]", kOnigSpaceItems);
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

std::string escape_regex(std::string_view literal) {
  // \Q...\E quotes everything except the sequence "\E" itself, which we split.
  std::string out = "\\Q";
  for (std::size_t i = 0; i < literal.size(); ++i) {
    if (literal[i] == '\\' && i + 1 < literal.size() && literal[i + 1] == 'E') {
      out += "\\E\\\\\\QE";
      ++i;
    } else {
      out += literal[i];
    }
  }
  out += "\\E";
  return out;
}

Regex::Regex(std::string_view pattern, std::string where)
    : pattern_(pattern), where_(std::move(where)), compiled_(std::make_unique<Compiled>()) {
  const std::string translated = translate_onig_pattern(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  compiled_->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
  if (compiled_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    throw DataError(fmt::format("{}: invalid regex '{}' at offset {}: {}", where_, pattern_, offset,
                                reinterpret_cast<const char*>(message)));
  }
  // JIT is an optimisation only: without it (or when it fails) the interpreter runs.
  pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE);
  compiled_->context = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(compiled_->context, kMatchLimit);
  pcre2_set_depth_limit(compiled_->context, kDepthLimit);
  pcre2_jit_stack_assign(compiled_->context, jit_stack_callback, nullptr);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

Regex regex_from_pattern_node(const JsonView& node) {
  const std::string where = node.source() + ": " + node.path();
  if (auto s = node.find("String")) return Regex::literal(s->as_string(), where);
  if (auto r = node.find("Regex")) return Regex(r->as_string(), where);
  node.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

Regex Regex::literal(std::string_view literal, std::string where) {
  Regex regex(escape_regex(literal), std::move(where));
  regex.literal_ = literal;
  return regex;
}

void Regex::find_all(std::string_view text, std::vector<Span>& out) const {
  out.clear();
  if (!literal_.empty()) {
    // Non-overlapping, left to right: what the regex would find, without its overhead.
    for (std::size_t pos = text.find(literal_); pos != std::string_view::npos;
         pos = text.find(literal_, pos + literal_.size())) {
      out.emplace_back(pos, pos + literal_.size());
    }
    return;
  }
  pcre2_match_data* data = scratch().data;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t search_from = 0;
  bool have_last = false;
  std::size_t last_end = 0;
  while (search_from <= text.size()) {
    const int rc = pcre2_match(compiled_->code, subject, text.size(), search_from,
                               PCRE2_NO_UTF_CHECK, data, compiled_->context);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw DataError(fmt::format("{}: regex '{}' failed on a {}-byte text: {}", where_, pattern_,
                                  text.size(), reinterpret_cast<const char*>(message)));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const std::size_t start = ovector[0], end = ovector[1];
    if (start == end && have_last && last_end == end) {
      // onig's iterator: skip an empty match glued to the previous match, retry one char later.
      if (search_from >= text.size()) return;
      search_from += utf8_length(static_cast<unsigned char>(text[search_from]));
      continue;
    }
    out.emplace_back(start, end);
    have_last = true;
    last_end = end;
    search_from = end;
  }
}

bool Regex::matches_at_start(std::string_view text) const {
  pcre2_match_data* data = scratch().data;
  const int rc =
      pcre2_match(compiled_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                  PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, data, compiled_->context);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    throw DataError(fmt::format("{}: regex '{}' failed (error {})", where_, pattern_, rc));
  }
  return true;
}

}  // namespace slmq::tokenizer
