#pragma once
// The BPE model of tokenizer.json: vocab, merge ranks, ignore_merges, byte_fallback, unk_token
// (with fuse_unk), continuing_subword_prefix and end_of_word_suffix. Encoding a word applies
// merges lowest rank first (leftmost on ties), exactly as HF tokenizers does; results for
// words shorter than 256 bytes are cached. All const methods are thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "slmq/tokenizer/json_view.h"

namespace slmq::tokenizer {

// Hash for unordered maps keyed by std::string that accept std::string_view lookups.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

class WordCache;

class BpeModel {
 public:
  // `node` is the tokenizer.json "model" object (type BPE). Dropout other than 0 is refused.
  explicit BpeModel(const JsonView& node);
  ~BpeModel();
  BpeModel(BpeModel&&) noexcept;

  // Appends the ids of one pre-tokenized word to `out`.
  void tokenize(std::string_view word, std::vector<std::int32_t>& out) const;

  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // nullptr when no token has this id.
  const std::string* id_to_token(std::int32_t id) const;
  // Number of entries in the vocab; `max_id() + 1` may be larger when ids have gaps.
  std::size_t size() const { return vocab_.size(); }
  std::int32_t max_id() const { return static_cast<std::int32_t>(tokens_.size()) - 1; }

 private:
  struct MergeTable;
  void merge_word(std::string_view word, std::vector<std::int32_t>& out) const;
  std::int32_t char_symbols(std::string_view word, std::vector<std::int32_t>& ids,
                            std::vector<std::uint32_t>& lens) const;

  StringIdMap vocab_;
  std::vector<std::string> tokens_;
  std::vector<bool> has_token_;
  std::unique_ptr<MergeTable> merges_;
  std::optional<std::int32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::int32_t byte_ids_[256];
  std::unique_ptr<WordCache> cache_;
};

}  // namespace slmq::tokenizer
