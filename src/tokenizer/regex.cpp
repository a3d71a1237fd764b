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

// Letters and numbers that Unicode 15.0-16.0 assigned: HF's Oniguruma (Unicode 16) has them in
// \p{L} / \p{N}, Debian's PCRE2 10.42 (Unicode 14) does not. Redundant with a newer PCRE2.
// tests/reference/tokenizer_golden_test.cpp compares every code point with Oniguruma.
constexpr std::string_view kRecentLetters =
    R"(\x{1C89}-\x{1C8A}\x{A7CB}-\x{A7CD}\x{A7DA}-\x{A7DC}\x{105C0}-\x{105F3})"
    R"(\x{10D4A}-\x{10D65}\x{10D6F}-\x{10D85}\x{10EC2}-\x{10EC4}\x{1123F}-\x{11240})"
    R"(\x{11380}-\x{11389}\x{1138B}\x{1138E}\x{11390}-\x{113B5}\x{113B7}\x{113D1}\x{113D3})"
    R"(\x{11BC0}-\x{11BE0}\x{11F02}\x{11F04}-\x{11F10}\x{11F12}-\x{11F33}\x{1342F})"
    R"(\x{13441}-\x{13446}\x{13460}-\x{143FA}\x{16100}-\x{1611D}\x{16D40}-\x{16D6C})"
    R"(\x{18CFF}\x{1B132}\x{1B155}\x{1DF25}-\x{1DF2A}\x{1E030}-\x{1E06D}\x{1E4D0}-\x{1E4EB})"
    R"(\x{1E5D0}-\x{1E5ED}\x{1E5F0}\x{2B739}\x{2EBF0}-\x{2EE5D}\x{31350}-\x{323AF})";
constexpr std::string_view kRecentNumbers =
    R"(\x{10D40}-\x{10D49}\x{116D0}-\x{116E3}\x{11BF0}-\x{11BF9}\x{11F50}-\x{11F59})"
    R"(\x{16130}-\x{16139}\x{16D70}-\x{16D79}\x{1CCF0}-\x{1CCF9}\x{1D2C0}-\x{1D2D3})"
    R"(\x{1E4F0}-\x{1E4F9}\x{1E5F1}-\x{1E5FA})";

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
      const std::string_view rest = p.substr(i);
      const bool letter = rest.starts_with("\\p{L}") || rest.starts_with("\\P{L}");
      const bool number = rest.starts_with("\\p{N}") || rest.starts_with("\\P{N}");
      if ((letter || number) && !(in_class && e == 'P')) {
        const std::string items = fmt::format("\\p{{{}}}{}", letter ? 'L' : 'N',
                                              letter ? kRecentLetters : kRecentNumbers);
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
