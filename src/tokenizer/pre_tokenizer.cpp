#include "slmq/tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <functional>

#include "slmq/tokenizer/utf8.h"

namespace slmq::tokenizer {
namespace {

constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Runs `split_one` on every fragment and keeps the non-empty pieces it produces.
void split_fragments(std::vector<Fragment>& fragments,
                     const std::function<void(Fragment&, std::vector<Fragment>&)>& split_one) {
  std::vector<Fragment> out;
  out.reserve(fragments.size() * 4);
  for (auto& fragment : fragments) split_one(fragment, out);
  std::erase_if(out, [](const Fragment& f) { return f.text.empty(); });
  fragments = std::move(out);
}

void push_pieces(const Fragment& fragment, const std::vector<Span>& pieces,
                 std::vector<Fragment>& out) {
  for (const auto& [start, end] : pieces) {
    if (start == end) continue;
    out.push_back({fragment.text.substr(start, end - start), fragment.at_origin && start == 0});
  }
}

// HF's char-predicate Pattern: every matching character is its own match.
void char_match_spans(std::string_view text, const std::function<bool(char32_t)>& pred,
                      std::vector<MatchSpan>& out) {
  out.clear();
  if (text.empty()) {
    out.push_back({{0, 0}, false});
    return;
  }
  std::size_t last = 0;
  char32_t cp = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t n = decode_utf8(text, pos, cp);
    if (pred(cp)) {
      if (last < pos) out.push_back({{last, pos}, false});
      out.push_back({{pos, pos + n}, true});
      last = pos + n;
    }
    pos += n;
  }
  if (last < text.size()) out.push_back({{last, text.size()}, false});
}

SplitBehavior parse_behavior(const JsonView& node) {
  const std::string b = node.as_string();
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  node.fail("unknown split behavior '" + b + "'");
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Regex regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Fragment>& fragments) const override {
    split_fragments(fragments, [this](Fragment& fragment, std::vector<Fragment>& out) {
      thread_local std::vector<MatchSpan> matches;
      regex_match_spans(regex_, fragment.text, matches);
      if (invert_) {
        for (auto& m : matches) m.is_match = !m.is_match;
      }
      push_pieces(fragment, apply_split_behavior(matches, behavior_), out);
    });
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space),
        regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern, "ByteLevel pre-tokenizer")
                         : nullptr) {}
  void pre_tokenize(std::vector<Fragment>& fragments) const override {
    const ByteLevelTable& table = ByteLevelTable::get();
    split_fragments(fragments, [&](Fragment& fragment, std::vector<Fragment>& out) {
      if (add_prefix_space_ && fragment.text.front() != ' ')
        fragment.text.insert(fragment.text.begin(), ' ');
      const std::size_t first = out.size();
      if (regex_) {
        thread_local std::vector<MatchSpan> matches;
        regex_match_spans(*regex_, fragment.text, matches);
        push_pieces(fragment, apply_split_behavior(matches, SplitBehavior::kIsolated), out);
      } else {
        out.push_back(std::move(fragment));
      }
      for (std::size_t i = first; i < out.size(); ++i) {
        std::string mapped;
        mapped.reserve(out[i].text.size() * 2);
        for (char c : out[i].text) mapped += table.char_for(static_cast<unsigned char>(c));
        out[i].text = std::move(mapped);
      }
    });
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kFirst, kNever, kAlways };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : scheme_(scheme), split_(split), replacement_cp_(replacement) {
    append_utf8(replacement_, replacement);
  }
  void pre_tokenize(std::vector<Fragment>& fragments) const override {
    split_fragments(fragments, [this](Fragment& fragment, std::vector<Fragment>& out) {
      std::string text;
      text.reserve(fragment.text.size() + replacement_.size());
      for (char c : fragment.text) {
        if (c == ' ') {
          text += replacement_;
        } else {
          text += c;
        }
      }
      const bool starts = text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts && (scheme_ == PrependScheme::kAlways ||
                      (scheme_ == PrependScheme::kFirst && fragment.at_origin))) {
        text.insert(0, replacement_);
      }
      fragment.text = std::move(text);
      if (!split_) {
        out.push_back(std::move(fragment));
        return;
      }
      thread_local std::vector<MatchSpan> matches;
      const char32_t rep = replacement_cp_;
      char_match_spans(
          fragment.text, [rep](char32_t cp) { return cp == rep; }, matches);
      push_pieces(fragment, apply_split_behavior(matches, SplitBehavior::kMergedWithNext), out);
    });
  }

 private:
  PrependScheme scheme_;
  bool split_;
  char32_t replacement_cp_;
  std::string replacement_;
};

class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> pred, SplitBehavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void pre_tokenize(std::vector<Fragment>& fragments) const override {
    split_fragments(fragments, [this](Fragment& fragment, std::vector<Fragment>& out) {
      thread_local std::vector<MatchSpan> matches;
      char_match_spans(fragment.text, pred_, matches);
      push_pieces(fragment, apply_split_behavior(matches, behavior_), out);
    });
  }

 private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts)
      : parts_(std::move(parts)) {}
  void pre_tokenize(std::vector<Fragment>& fragments) const override {
    for (const auto& part : parts_) part->pre_tokenize(fragments);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

PrependScheme parse_prepend_scheme(const JsonView& node) {
  // Older files carry only add_prefix_space; HF maps false to "never".
  auto scheme = node.find("prepend_scheme");
  PrependScheme result = PrependScheme::kAlways;
  if (scheme) {
    const std::string s = scheme->as_string();
    if (s == "first") {
      result = PrependScheme::kFirst;
    } else if (s == "never") {
      result = PrependScheme::kNever;
    } else if (s == "always") {
      result = PrependScheme::kAlways;
    } else {
      scheme->fail("unknown prepend_scheme '" + s + "'");
    }
  }
  auto add_prefix_space = node.find("add_prefix_space");
  if (add_prefix_space && !add_prefix_space->as_bool()) {
    if (result != PrependScheme::kNever && scheme) {
      node.fail("add_prefix_space does not match declared prepend_scheme");
    }
    result = PrependScheme::kNever;
  }
  return result;
}

}  // namespace

std::vector<Span> apply_split_behavior(const std::vector<MatchSpan>& matches,
                                       SplitBehavior behavior) {
  std::vector<Span> out;
  out.reserve(matches.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& m : matches) out.push_back(m.span);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& m : matches) {
        if (!m.is_match) out.push_back(m.span);
      }
      break;
    case SplitBehavior::kContiguous:
      for (const auto& m : matches) {
        if (m.is_match == previous_match && !out.empty()) {
          out.back().second = m.span.second;
        } else {
          out.push_back(m.span);
        }
        previous_match = m.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& m : matches) {
        if (m.is_match && !previous_match && !out.empty()) {
          out.back().second = m.span.second;
        } else {
          out.push_back(m.span);
        }
        previous_match = m.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) {
          out.back().first = it->span.first;
        } else {
          out.push_back(it->span);
        }
        previous_match = it->is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  return out;
}

void regex_match_spans(const Regex& regex, std::string_view text, std::vector<MatchSpan>& out) {
  out.clear();
  if (text.empty()) {
    out.push_back({{0, 0}, false});
    return;
  }
  thread_local std::vector<Span> matches;
  regex.find_all(text, matches);
  std::size_t prev = 0;
  for (const auto& m : matches) {
    if (prev != m.first) out.push_back({{prev, m.first}, false});
    out.push_back({m, true});
    prev = m.second;
  }
  if (prev != text.size()) out.push_back({{prev, text.size()}, false});
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonView& node) {
  const std::string type = node["type"].as_string();
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(regex_from_pattern_node(node["pattern"]),
                                               parse_behavior(node["behavior"]),
                                               node.bool_or("invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(node.bool_or("add_prefix_space", true),
                                                   node.bool_or("use_regex", true));
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspacePreTokenizer>(
        node["replacement"].as_char(), parse_prepend_scheme(node), node.bool_or("split", true));
  }
  if (type == "Digits") {
    const bool individual = node.bool_or("individual_digits", false);
    return std::make_unique<CharSplitPreTokenizer>(
        is_numeric, individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharSplitPreTokenizer>(is_white_space, SplitBehavior::kRemoved);
  }
  if (type == "Sequence") {
    const JsonView list = node["pretokenizers"];
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (std::size_t i = 0; i < list.size(); ++i) parts.push_back(make_pre_tokenizer(list.at(i)));
    return std::make_unique<SequencePreTokenizer>(std::move(parts));
  }
  node["type"].unsupported("pre-tokenizer type '" + type + "' is not supported");
}

}  // namespace slmq::tokenizer
