#pragma once
// Added and special tokens ("added_tokens" of tokenizer.json). They are cut out of the text
// before the model sees it: first the tokens with normalized=false on the raw text, then those
// with normalized=true on each normalized remainder. Matching is leftmost-longest; single_word,
// lstrip and rstrip follow HF tokenizers' AddedVocabulary.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "slmq/tokenizer/bpe_model.h"
#include "slmq/tokenizer/json_view.h"

namespace slmq::tokenizer {

class Normalizer;

struct AddedToken {
  std::int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// One piece of text: either an added token (id >= 0) or plain text (id < 0) to normalize and
// pre-tokenize.
struct Segment {
  std::string_view text;
  std::int32_t id = -1;
  std::size_t offset = 0;  // byte offset of `text` in the string it was cut from
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `normalizer` (may be null) gives the form that normalized=true tokens are matched in.
  // Ids follow HF's rule: the model's id for a content it knows, else the next free id.
  AddedVocabulary(const JsonView& added_tokens, const Normalizer* normalizer,
                  const BpeModel& model);

  // Splits `text` into added tokens and the text between them, using the tokens with
  // normalized == `normalized`. Segments cover `text` in order; empty ones are omitted.
  void split(std::string_view text, bool normalized, std::vector<Segment>& out) const;

  const AddedToken* find(std::int32_t id) const;
  std::optional<std::int32_t> token_to_id(std::string_view content) const;
  // The string decode passes to the decoder for an added token (its normalized form when it
  // was matched normalized), as HF's simple_id_to_token.
  const std::string* decode_form(std::int32_t id) const;
  bool is_special_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }

 private:
  // Byte trie over token contents (one per matching pass) for leftmost-longest matching.
  struct Trie {
    struct Node {
      std::unordered_map<unsigned char, std::int32_t> next;
      std::int32_t token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{1};
    bool first_byte[256] = {};
    void add(std::string_view key, std::int32_t token);
    // Longest token starting at `pos`; returns its length (0 if none) and index.
    std::size_t longest_at(std::string_view text, std::size_t pos, std::int32_t& token) const;
  };

  std::vector<AddedToken> tokens_;
  std::vector<std::string> match_forms_;  // content, or its normalized form
  std::unordered_map<std::int32_t, std::size_t> by_id_;
  StringIdMap by_content_;
  std::unordered_map<std::string, bool, StringHash, std::equal_to<>> special_contents_;
  Trie raw_trie_, normalized_trie_;
};

}  // namespace slmq::tokenizer
