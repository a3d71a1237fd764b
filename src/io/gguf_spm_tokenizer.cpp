// tokenizer.json equivalent for SentencePiece BPE vocabularies stored in GGUF
// (tokenizer.ggml.model "llama": Gemma, Llama-2, Mistral v0.1 ...). The result is the
// tokenizer.json that transformers' SentencePiece converter writes for such a model: spaces become
// '▁' (after a '▁' prefix when tokenizer.ggml.add_space_prefix), no pre-tokenizer, BPE with byte
// fallback and merges derived from the piece scores, the control / user-defined / unknown pieces as
// added tokens, BOS (EOS) added by a template, and the decoder '▁' -> ' ', byte fallback, fuse. On
// Gemma-3-270M's GGUF the vocab, merges, normalizer, post-processor and decoder equal
// google/gemma-3-270m's tokenizer.json; see tests/reference/gguf_spm_tokenizer_test.cpp for the ids
// and what the GGUF cannot carry.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "gguf_tokenizer_parts.h"
#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io::detail {
namespace {

constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's whitespace mark

struct SpmVocab {
  std::vector<std::string> tokens;
  std::vector<double> scores;
  std::vector<std::int64_t> types;
};

[[noreturn]] void fail(const GgufFile& file, const std::string& key, const std::string& what) {
  throw DataError(fmt::format("GGUF '{}': metadata key '{}': {}", file.path().string(), key, what));
}

std::vector<double> read_scores(const GgufFile& file, std::size_t n_tokens) {
  const std::string key = "tokenizer.ggml.scores";
  const GgufValue& value = file.require(key);
  if (value.type() != GgufValueType::kArray || (value.element_type() != GgufValueType::kFloat32 &&
                                                value.element_type() != GgufValueType::kFloat64)) {
    fail(file, key, "expected an array of floats");
  }
  const auto& items = value.as_array();
  if (items.size() != n_tokens) {
    fail(file, key, fmt::format("{} scores for {} tokens", items.size(), n_tokens));
  }
  std::vector<double> scores;
  scores.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    scores.push_back(items[i].as_double());
    // The merge order sorts by score; NaN would break the ordering.
    if (!std::isfinite(scores.back())) fail(file, key, fmt::format("score {} is not finite", i));
  }
  return scores;
}

// Replaces every occurrence of `from` in `s` by `to`.
std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

SpmVocab read_vocab(const GgufFile& file) {
  SpmVocab v;
  v.tokens = file.get_string_array("tokenizer.ggml.tokens");
  v.scores = read_scores(file, v.tokens.size());
  v.types = file.get_int_array("tokenizer.ggml.token_type");
  if (v.types.size() != v.tokens.size()) {
    fail(file, "tokenizer.ggml.token_type",
         fmt::format("{} types for {} tokens", v.types.size(), v.tokens.size()));
  }
  for (std::size_t id = 0; id < v.tokens.size(); ++id) {
    if (v.types[id] < kTypeNormal || v.types[id] > kTypeByte) {
      fail(file, "tokenizer.ggml.token_type",
           fmt::format("token {} has type {} (known: 1 to 6)", id, v.types[id]));
    }
    // llama.cpp's converter writes user-defined pieces with '▁' turned into ' ' (its tokenizer
    // matches them against the raw text). A SentencePiece piece never holds a raw space (its
    // whitespace is '▁'), so turning ' ' back restores the original piece: Gemma's runs of
    // spaces, ids 138-167, are '▁▁' ... in google/gemma-3's tokenizer.json.
    if (v.types[id] == kTypeUserDefined) v.tokens[id] = replace_all(v.tokens[id], " ", kSpace);
  }
  return v;
}

// Vocabulary string -> id. Open addressing over one array: deriving the merges takes about two
// million lookups, mostly misses, which this answers a few times faster than
// std::unordered_map's node chains.
class TokenIndex {
 public:
  // DataError naming the key when a string occurs twice: SentencePiece refuses duplicate
  // pieces, and HF's vocab (a dict) could not hold both ids.
  TokenIndex(const GgufFile& file, const std::vector<std::string>& tokens) : tokens_(tokens) {
    std::size_t capacity = 16;
    while (capacity < 2 * tokens.size()) capacity *= 2;
    mask_ = capacity - 1;
    slots_.assign(capacity, Slot{0, -1});
    for (std::size_t id = 0; id < tokens.size(); ++id) {
      Slot& slot = slots_[probe(tokens[id])];
      if (slot.id >= 0) {
        fail(file, "tokenizer.ggml.tokens",
             fmt::format("tokens {} and {} are both '{}'", slot.id, id, tokens[id]));
      }
      slot = {std::hash<std::string_view>{}(tokens[id]), static_cast<std::int32_t>(id)};
    }
  }
  // The id of `s`, or -1.
  std::int32_t find(std::string_view s) const { return slots_[probe(s)].id; }

 private:
  struct Slot {
    std::uint64_t hash;
    std::int32_t id;  // -1: empty
  };
  // The slot holding `s`, or the empty slot where it would go.
  std::size_t probe(std::string_view s) const {
    const std::uint64_t h = std::hash<std::string_view>{}(s);
    std::size_t at = h & mask_;
    while (slots_[at].id >= 0 && !(slots_[at].hash == h && tokens_[slots_[at].id] == s))
      at = (at + 1) & mask_;
    return at;
  }

  const std::vector<std::string>& tokens_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

// Code points in a UTF-8 string (Python's len(), which orders the merges).
std::uint32_t code_points(std::string_view s) {
  return static_cast<std::uint32_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

struct MergeCandidate {
  double score;  // of the merged piece
  std::uint32_t left_chars, right_chars;
  std::int32_t left, right;  // vocabulary ids
};

// The BPE merges, in rank order. In a SentencePiece BPE model a piece scores the higher the
// earlier training created it, and encoding repeatedly joins the adjacent pair whose joined
// piece scores highest. HF's converter (transformers' generate_merges, behind every SentencePiece
// BPE tokenizer.json) turns that into a merge list: every split of every piece into two
// vocabulary pieces, ordered by the two pieces' ids, becomes a merge carrying the piece's score;
// the list is then stably sorted by score, longer left part, longer right part, all descending.
// HF's BPE joins the lowest-rank pair first, i.e. the pair whose joined piece scores highest. We
// rebuild that list exactly (on Gemma-3 it equals the shipped file's 514,906 merges), so HF's
// tie-breaking between splits of one piece is reproduced too.
// Scores: SentencePiece gives unknown, control and user-defined pieces score 0, and HF's merges
// use that; llama.cpp's converter overwrites the score of every HF added token with -1000, so
// those three types count as 0 here (they lead the list, e.g. '▁▁▁' = '▁▁' + '▁').
nlohmann::json merges_json(const SpmVocab& v, const TokenIndex& index) {
  std::vector<MergeCandidate> all, local;
  for (std::size_t id = 0; id < v.tokens.size(); ++id) {
    const std::string_view piece = v.tokens[id];
    const std::int64_t type = v.types[id];
    const bool meta = type == kTypeUnknown || type == kTypeControl || type == kTypeUserDefined;
    const double score = meta ? 0.0 : v.scores[id];
    local.clear();
    for (std::size_t cut = 1; cut < piece.size(); ++cut) {
      if ((piece[cut] & 0xC0) == 0x80) continue;  // splits fall between code points
      const std::int32_t left = index.find(piece.substr(0, cut));
      if (left < 0) continue;
      const std::int32_t right = index.find(piece.substr(cut));
      if (right < 0) continue;
      local.push_back(
          {score, code_points(piece.substr(0, cut)), code_points(piece.substr(cut)), left, right});
    }
    std::sort(local.begin(), local.end(), [](const auto& a, const auto& b) {
      return a.left != b.left ? a.left < b.left : a.right < b.right;
    });
    all.insert(all.end(), local.begin(), local.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_chars != b.left_chars) return a.left_chars > b.left_chars;
    return a.right_chars > b.right_chars;
  });
  nlohmann::json merges = nlohmann::json::array();
  merges.get_ref<nlohmann::json::array_t&>().reserve(all.size());
  for (const auto& m : all) merges.push_back({v.tokens[m.left], v.tokens[m.right]});
  return merges;
}

// Unknown, control and user-defined pieces are whole tokens matched in the raw text, as HF's
// SentencePiece converter adds them: control (and unknown) pieces special, user-defined ones
// not. (A model's hub tokenizer.json may flag some differently by hand; the GGUF does not
// record that. llama.cpp likewise renders user-defined and hides control tokens.)
nlohmann::json added_tokens_json(const SpmVocab& v) {
  nlohmann::json added = nlohmann::json::array();
  for (std::size_t id = 0; id < v.tokens.size(); ++id) {
    const auto t = v.types[id];
    if (t != kTypeUnknown && t != kTypeControl && t != kTypeUserDefined) continue;
    added.push_back({{"id", id},
                     {"content", v.tokens[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", t != kTypeUserDefined}});
  }
  return added;
}

// {token: id}. Inserted in key order with a hint, so each insertion into the JSON object's
// std::map is amortised constant time instead of a full tree search.
nlohmann::json vocab_json(const std::vector<std::string>& tokens) {
  std::vector<std::int32_t> order(tokens.size());
  for (std::size_t id = 0; id < order.size(); ++id) order[id] = static_cast<std::int32_t>(id);
  std::sort(order.begin(), order.end(),
            [&](std::int32_t a, std::int32_t b) { return tokens[a] < tokens[b]; });
  nlohmann::json vocab = nlohmann::json::object();
  auto& object = vocab.get_ref<nlohmann::json::object_t&>();
  for (const std::int32_t id : order) object.emplace_hint(object.end(), tokens[id], id);
  return vocab;
}

nlohmann::json replace(const char* from, const char* to) {
  return {{"type", "Replace"}, {"pattern", {{"String", from}}}, {"content", to}};
}

const std::string& unknown_token(const GgufFile& file, const SpmVocab& v) {
  const std::string key = "tokenizer.ggml.unknown_token_id";
  const auto id = file.get_uint(key);
  if (id >= v.tokens.size()) {
    fail(file, key,
         fmt::format("id {} is outside the vocabulary ({} tokens)", id, v.tokens.size()));
  }
  return v.tokens[id];
}

}  // namespace

nlohmann::json spm_tokenizer_json(const GgufFile& file) {
  const SpmVocab v = read_vocab(file);
  const TokenIndex index(file, v.tokens);
  // Absent keys take llama.cpp's defaults for SentencePiece vocabularies.
  const bool space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  const bool add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(true);
  const bool add_eos = file.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  nlohmann::json normalizer = replace(" ", kSpace);
  nlohmann::json decoders = {replace(kSpace, " "), {{"type", "ByteFallback"}}, {{"type", "Fuse"}}};
  if (space_prefix) {
    normalizer = {{"type", "Sequence"},
                  {"normalizers", {{{"type", "Prepend"}, {"prepend", kSpace}}, normalizer}}};
    decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  }
  nlohmann::json model = {
      {"type", "BPE"},
      {"dropout", nullptr},
      {"unk_token", unknown_token(file, v)},
      {"continuing_subword_prefix", nullptr},
      {"end_of_word_suffix", nullptr},
      {"fuse_unk", true},
      {"byte_fallback", std::find(v.types.begin(), v.types.end(), kTypeByte) != v.types.end()},
      {"ignore_merges", false}};
  // Moved in, not listed in the initializer above, which would copy the large arrays.
  model["vocab"] = vocab_json(v.tokens);
  model["merges"] = merges_json(v, index);
  nlohmann::json out = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added_tokens_json(v)},
      {"normalizer", normalizer},
      // None: the original files have none (Llama-2) or split on ' ' after the normalizer has
      // replaced every space (Gemma), which never matches. Each normalized segment is one word.
      {"pre_tokenizer", nullptr},
      {"post_processor", template_processor(file, v.tokens, add_bos, add_eos)},
      {"decoder", {{"type", "Sequence"}, {"decoders", decoders}}},
  };
  out["model"] = std::move(model);
  return out;
}

}  // namespace slmq::io::detail
