#include "slmq/tokenizer/added_vocabulary.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "slmq/tokenizer/normalizer.h"
#include "slmq/tokenizer/utf8.h"

namespace slmq::tokenizer {
namespace {

char32_t last_char(std::string_view text) {
  std::size_t start = text.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  char32_t cp = 0;
  decode_utf8(text, start, cp);
  return cp;
}

char32_t first_char(std::string_view text) {
  char32_t cp = 0;
  decode_utf8(text, 0, cp);
  return cp;
}

// Start of the whitespace run that ends `text` (HF: regex `\s*$`).
std::size_t trailing_space_start(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    char32_t cp = 0;
    decode_utf8(text, start, cp);
    if (!is_white_space(cp)) break;
    end = start;
  }
  return end;
}

// Length of the whitespace run that starts `text` (HF: regex `^\s*`).
std::size_t leading_space_length(std::string_view text) {
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    const std::size_t n = decode_utf8(text, pos, cp);
    if (!is_white_space(cp)) break;
    pos += n;
  }
  return pos;
}

}  // namespace

void AddedVocabulary::Trie::add(std::string_view key, std::int32_t token) {
  std::int32_t node = 0;
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    auto it = nodes[node].next.find(c);
    if (it == nodes[node].next.end()) {
      nodes.emplace_back();
      const auto child = static_cast<std::int32_t>(nodes.size() - 1);
      nodes[node].next.emplace(c, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  nodes[node].token = token;
  first_byte[static_cast<unsigned char>(key[0])] = true;
}

std::size_t AddedVocabulary::Trie::longest_at(std::string_view text, std::size_t pos,
                                              std::int32_t& token) const {
  std::size_t best = 0;
  std::int32_t node = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const auto& next = nodes[node].next;
    auto it = next.find(static_cast<unsigned char>(text[i]));
    if (it == next.end()) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      best = i + 1 - pos;
      token = nodes[node].token;
    }
  }
  return best;
}

AddedVocabulary::AddedVocabulary(const JsonView& list, const Normalizer* normalizer,
                                 const BpeModel& model) {
  // Ids are assigned as HF's add_tokens does (an existing id for a known content, else the next
  // free id); a file whose "id" disagrees gets HF's warning and HF's id.
  std::int32_t next_id = static_cast<std::int32_t>(model.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const JsonView node = list.at(i);
    AddedToken token;
    token.content = node["content"].as_string();
    if (token.content.empty()) continue;
    token.single_word = node.bool_or("single_word", false);
    token.lstrip = node.bool_or("lstrip", false);
    token.rstrip = node.bool_or("rstrip", false);
    token.special = node.bool_or("special", false);
    token.normalized = node.bool_or("normalized", !token.special);
    const auto file_id = node["id"].as_int();
    if (auto known = by_content_.find(token.content); known != by_content_.end()) {
      token.id = known->second;
    } else if (auto in_model = model.token_to_id(token.content)) {
      token.id = *in_model;
    } else {
      token.id = next_id++;
    }
    if (token.id != file_id) {
      spdlog::warn("{}: added token '{}' has id {} in the file but gets id {}", list.source(),
                   token.content, file_id, token.id);
    }
    std::string form = token.content;
    if (token.normalized && normalizer != nullptr) normalizer->normalize(form);
    if (auto at = by_id_.find(token.id); at != by_id_.end()) {
      tokens_[at->second] = token;
      match_forms_[at->second] = form;
    } else {
      by_id_.emplace(token.id, tokens_.size());
      tokens_.push_back(token);
      match_forms_.push_back(form);
    }
    by_content_[token.content] = token.id;
    if (token.special) special_contents_[token.content] = true;
  }
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    Trie& trie = tokens_[i].normalized ? normalized_trie_ : raw_trie_;
    if (!match_forms_[i].empty()) trie.add(match_forms_[i], static_cast<std::int32_t>(i));
  }
}

void AddedVocabulary::split(std::string_view text, bool normalized,
                            std::vector<Segment>& out) const {
  out.clear();
  if (text.empty()) return;
  const Trie& trie = normalized ? normalized_trie_ : raw_trie_;
  if (trie.nodes.size() == 1) {
    out.push_back({text, -1, 0});
    return;
  }
  std::size_t start_offset = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::int32_t index = -1;
    const std::size_t len = trie.first_byte[static_cast<unsigned char>(text[pos])]
                                ? trie.longest_at(text, pos, index)
                                : 0;
    if (len == 0) {
      ++pos;
      continue;
    }
    std::size_t start = pos, stop = pos + len;
    pos = stop;
    const AddedToken& token = tokens_[index];
    if (token.single_word) {
      const bool start_space = start == 0 || !is_word_char(last_char(text.substr(0, start)));
      const bool stop_space = stop == text.size() || !is_word_char(first_char(text.substr(stop)));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (token.rstrip) stop += leading_space_length(text.substr(stop));
    if (start_offset < start) {
      out.push_back({text.substr(start_offset, start - start_offset), -1, start_offset});
    }
    start = std::max(start, start_offset);
    out.push_back({text.substr(start, stop - start), token.id, start});
    start_offset = stop;
  }
  if (start_offset < text.size()) {
    out.push_back({text.substr(start_offset), -1, start_offset});
  }
}

const AddedToken* AddedVocabulary::find(std::int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<std::int32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const std::string* AddedVocabulary::decode_form(std::int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &match_forms_[it->second];
}

bool AddedVocabulary::is_special_content(std::string_view content) const {
  return special_contents_.find(content) != special_contents_.end();
}

}  // namespace slmq::tokenizer
