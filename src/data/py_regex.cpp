#include "slmq/data/py_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <functional>

#include "slmq/core/error.h"

namespace slmq::data {

const char* const kPyWhitespaceClass =
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
    "\\x{202f}\\x{205f}\\x{3000}";

struct PyRegex::Impl {
  pcre2_code* code = nullptr;
  uint32_t groups = 0;
  ~Impl() { pcre2_code_free(code); }

  // Calls on_match(ovector) for every match Python's finditer would report.
  void for_each_match(std::string_view text,
                      const std::function<void(const PCRE2_SIZE*)>& on_match) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    PCRE2_SIZE pos = 0;
    bool last_empty = false;
    while (pos <= text.size()) {
      // After an empty match Python retries at the same position for a non-empty match only.
      const uint32_t options = last_empty ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
      const int rc = pcre2_match(code, subject, text.size(), pos, options, md, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) {
        if (!last_empty) break;
        // Advance by one code point and search normally again.
        ++pos;
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xc0) == 0x80) ++pos;
        last_empty = false;
        continue;
      }
      if (rc < 0) {
        pcre2_match_data_free(md);
        throw InternalError("PCRE2 match failed with code " + std::to_string(rc));
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      on_match(ov);
      last_empty = ov[0] == ov[1];
      pos = ov[1];
    }
    pcre2_match_data_free(md);
  }
};

PyRegex::PyRegex(std::string_view pattern) : impl_(std::make_unique<Impl>()) {
  pcre2_compile_context* ctx = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(ctx, PCRE2_NEWLINE_LF);
  int err = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF, &err, &offset, ctx);
  pcre2_compile_context_free(ctx);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw InternalError("regex '" + std::string(pattern) + "' does not compile at " +
                        std::to_string(offset) + ": " + reinterpret_cast<const char*>(msg));
  }
  pcre2_pattern_info(impl_->code, PCRE2_INFO_CAPTURECOUNT, &impl_->groups);
}

PyRegex::~PyRegex() = default;
PyRegex::PyRegex(PyRegex&&) noexcept = default;
PyRegex& PyRegex::operator=(PyRegex&&) noexcept = default;

std::string PyRegex::sub(std::string_view text, std::string_view repl) const {
  std::string out;
  size_t copied = 0;
  impl_->for_each_match(text, [&](const PCRE2_SIZE* ov) {
    out.append(text.substr(copied, ov[0] - copied));
    for (size_t i = 0; i < repl.size(); ++i) {
      if (repl[i] == '\\' && i + 1 < repl.size() && repl[i + 1] >= '1' && repl[i + 1] <= '9') {
        const uint32_t g = static_cast<uint32_t>(repl[i + 1] - '0');
        if (g > impl_->groups) throw InternalError("regex replacement references a missing group");
        if (ov[2 * g] != PCRE2_UNSET) out.append(text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
        ++i;
      } else if (repl[i] == '\\' && i + 1 < repl.size() && repl[i + 1] == '\\') {
        out.push_back('\\');
        ++i;
      } else {
        out.push_back(repl[i]);
      }
    }
    copied = ov[1];
  });
  out.append(text.substr(copied));
  return out;
}

std::vector<std::vector<std::string>> PyRegex::findall(std::string_view text) const {
  std::vector<std::vector<std::string>> out;
  impl_->for_each_match(text, [&](const PCRE2_SIZE* ov) {
    std::vector<std::string> groups;
    if (impl_->groups == 0) {
      groups.emplace_back(text.substr(ov[0], ov[1] - ov[0]));
    } else {
      for (uint32_t g = 1; g <= impl_->groups; ++g) {
        groups.emplace_back(ov[2 * g] == PCRE2_UNSET
                                ? std::string()
                                : std::string(text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g])));
      }
    }
    out.push_back(std::move(groups));
  });
  return out;
}

}  // namespace slmq::data
