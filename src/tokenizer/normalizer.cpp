#include "slmq/tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "slmq/tokenizer/regex.h"
#include "slmq/tokenizer/utf8.h"

namespace slmq::tokenizer {
namespace {

// Characters whose decomposition utf8proc knows but HF's normalizer (whose tables predate
// Unicode 12) does not: HF leaves them unchanged, and so do we. Found by normalizing every code
// point with both; see the notes in the tokenizer report.
bool hf_leaves_unnormalized(char32_t cp) {
  static constexpr std::pair<char32_t, char32_t> kRanges[] = {
      {0x32FF, 0x32FF},   {0xA7F2, 0xA7F4},   {0xAB69, 0xAB69},   {0x10781, 0x10785},
      {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x11938, 0x11938}, {0x1E030, 0x1E06D},
      {0x1F16C, 0x1F16C}, {0x1FBF0, 0x1FBF9}};
  if (cp < 0x32FF) return false;
  for (const auto& [first, last] : kRanges) {
    if (cp >= first && cp <= last) return true;
  }
  return false;
}

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(int options) : options_(options) {}
  void normalize(std::string& text) const override {
    if (text.empty()) return;
    // ASCII is invariant under every normalization form; most text takes this exit.
    bool ascii = true;
    for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) return;
    // Normalize the runs between characters HF leaves alone; those are starters, so cutting
    // there changes neither reordering nor composition of the runs.
    std::string out;
    std::size_t run = 0;
    char32_t cp = 0;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t n = decode_utf8(text, pos, cp);
      if (hf_leaves_unnormalized(cp)) {
        append_normalized(std::string_view(text).substr(run, pos - run), out);
        out.append(text, pos, n);
        run = pos + n;
      }
      pos += n;
    }
    append_normalized(std::string_view(text).substr(run), out);
    text = std::move(out);
  }

 private:
  void append_normalized(std::string_view run, std::string& out) const {
    if (run.empty()) return;
    utf8proc_uint8_t* mapped = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                                static_cast<utf8proc_ssize_t>(run.size()), &mapped,
                                static_cast<utf8proc_option_t>(options_));
    if (n < 0) {
      out.append(run);  // unreachable for valid UTF-8; keep the text as it was
      return;
    }
    out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
    std::free(mapped);
  }

  int options_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Regex pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    thread_local std::vector<Span> matches;
    pattern_.find_all(text, matches);
    if (matches.empty()) return;
    std::string out;
    out.reserve(text.size());
    std::size_t prev = 0;
    for (const auto& [start, end] : matches) {
      out.append(text, prev, start - prev);
      out += content_;  // empty matches insert too, as HF does
      prev = end;
    }
    out.append(text, prev, std::string::npos);
    text = std::move(out);
  }

 private:
  Regex pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    std::size_t begin = 0, end = text.size();
    char32_t cp = 0;
    if (left_) {
      while (begin < end) {
        const std::size_t n = decode_utf8(text, begin, cp);
        if (!is_white_space(cp)) break;
        begin += n;
      }
    }
    if (right_) {
      while (end > begin) {
        std::size_t start = end - 1;
        while ((static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        decode_utf8(text, start, cp);
        if (!is_white_space(cp)) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts)
      : parts_(std::move(parts)) {}
  void normalize(std::string& text) const override {
    for (const auto& part : parts_) part->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const JsonView& node) {
  const std::string type = node["type"].as_string();
  const int compose = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
  const int decompose = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE;
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(compose);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(decompose);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(compose | UTF8PROC_COMPAT);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(decompose | UTF8PROC_COMPAT);
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(regex_from_pattern_node(node["pattern"]),
                                               node["content"].as_string());
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(node["prepend"].as_string());
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(node.bool_or("strip_left", true),
                                             node.bool_or("strip_right", true));
  }
  if (type == "Sequence") {
    const JsonView list = node["normalizers"];
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (std::size_t i = 0; i < list.size(); ++i) parts.push_back(make_normalizer(list.at(i)));
    return std::make_unique<SequenceNormalizer>(std::move(parts));
  }
  node["type"].unsupported("normalizer type '" + type + "' is not supported");
}

}  // namespace slmq::tokenizer
