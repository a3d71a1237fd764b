#include "slmq/tokenizer/bpe_model.h"

#include <fmt/format.h>

#include <array>
#include <mutex>
#include <queue>
#include <shared_mutex>

#include "slmq/tokenizer/utf8.h"

namespace slmq::tokenizer {
namespace {

// HF caches words shorter than this many bytes.
constexpr std::size_t kMaxCachedWordBytes = 256;
constexpr std::size_t kCacheCapacity = 1 << 17;

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}

}  // namespace

// Open-addressing map (pair of ids) -> (rank, merged id); built once, read concurrently.
struct BpeModel::MergeTable {
  struct Entry {
    std::uint64_t key = kEmpty;
    std::int32_t rank = 0;
    std::int32_t id = 0;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  explicit MergeTable(std::size_t n) {
    std::size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    entries.resize(cap);
    mask = cap - 1;
  }
  static std::size_t hash(std::uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<std::size_t>(key);
  }
  // A later merge of the same pair replaces the earlier one, as in HF's HashMap collect.
  void put(std::uint64_t key, std::int32_t rank, std::int32_t id) {
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (entries[i].key == kEmpty || entries[i].key == key) {
        entries[i] = {key, rank, id};
        return;
      }
    }
  }
  const Entry* get(std::uint64_t key) const {
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (entries[i].key == key) return &entries[i];
      if (entries[i].key == kEmpty) return nullptr;
    }
  }
  std::vector<Entry> entries;
  std::size_t mask = 0;
};

// Word -> ids, sharded so concurrent encoders rarely contend. Inserts stop at capacity, like HF.
class WordCache {
 public:
  bool lookup(std::string_view word, std::vector<std::int32_t>& out) const {
    const Shard& shard = shards_[std::hash<std::string_view>{}(word) % kShards];
    std::shared_lock lock(shard.mutex);
    auto it = shard.map.find(word);
    if (it == shard.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  void insert(std::string_view word, const std::int32_t* ids, std::size_t n) {
    Shard& shard = shards_[std::hash<std::string_view>{}(word) % kShards];
    std::unique_lock lock(shard.mutex);
    if (shard.map.size() >= kCacheCapacity / kShards) return;
    shard.map.try_emplace(std::string(word), ids, ids + n);
  }

 private:
  static constexpr std::size_t kShards = 32;
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, std::vector<std::int32_t>, StringHash, std::equal_to<>> map;
  };
  std::array<Shard, kShards> shards_;
};

BpeModel::~BpeModel() = default;
BpeModel::BpeModel(BpeModel&&) noexcept = default;

BpeModel::BpeModel(const JsonView& node) : cache_(std::make_unique<WordCache>()) {
  if (auto type = node.find("type"); type && type->as_string() != "BPE") {
    type->unsupported("model type '" + type->as_string() + "' is not supported (only BPE)");
  }
  if (auto dropout = node.find("dropout"); dropout && dropout->raw().get<double>() != 0.0) {
    dropout->unsupported("BPE dropout is not supported");
  }
  const JsonView vocab = node["vocab"];
  if (!vocab.is_object()) vocab.fail("expected an object of token -> id");
  vocab_.reserve(vocab.size());
  std::int64_t max_id = -1;
  for (const auto& [token, id] : vocab.raw().items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() > INT32_MAX) {
      vocab.fail(fmt::format("token '{}' has an invalid id", token));
    }
    vocab_[token] = static_cast<std::int32_t>(id.get<std::int64_t>());
    max_id = std::max(max_id, id.get<std::int64_t>());
  }
  // The id -> token table is dense, sized by the largest id. Ids may leave holes (duplicate
  // tokens of a converted GGUF share one entry), but not so many that one number sizes the table:
  // at most twice the entries plus 1024 slots, so its memory stays within a constant of the file's.
  const auto entries = static_cast<std::int64_t>(vocab_.size());
  if (max_id >= 2 * entries + 1024) {
    vocab.fail(fmt::format("ids reach {} but the vocabulary has {} entries", max_id, entries));
  }
  tokens_.resize(static_cast<std::size_t>(max_id + 1));
  has_token_.resize(tokens_.size());
  for (const auto& [token, id] : vocab_) {
    tokens_[id] = token;
    has_token_[id] = true;
  }

  if (auto unk = node.find("unk_token")) {
    auto it = vocab_.find(unk->as_string());
    // An unk token missing from the vocab makes HF fail on the first unknown character; we
    // drop such characters instead, as when no unk token is set.
    if (it != vocab_.end()) unk_id_ = it->second;
  }
  continuing_subword_prefix_ = node.string_or("continuing_subword_prefix", "");
  end_of_word_suffix_ = node.string_or("end_of_word_suffix", "");
  fuse_unk_ = node.bool_or("fuse_unk", false);
  byte_fallback_ = node.bool_or("byte_fallback", false);
  ignore_merges_ = node.bool_or("ignore_merges", false);
  for (int b = 0; b < 256; ++b) {
    auto it = vocab_.find(fmt::format("<0x{:02X}>", b));
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }

  const JsonView merges = node["merges"];
  if (!merges.is_array()) merges.fail("expected an array");
  merges_ = std::make_unique<MergeTable>(merges.size());
  // Hot loop over up to ~500k merges: raw JSON access, a JsonView only to report an error.
  const auto& list = merges.raw();
  std::string merged;
  for (std::size_t rank = 0; rank < list.size(); ++rank) {
    const auto& m = list[rank];
    std::string_view a, b;
    if (m.is_string()) {
      const std::string& line = m.get_ref<const std::string&>();
      const auto space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        merges.at(rank).fail("expected a merge \"left right\"");
      }
      a = std::string_view(line).substr(0, space);
      b = std::string_view(line).substr(space + 1);
    } else {
      if (!m.is_array() || m.size() != 2 || !m[0].is_string() || !m[1].is_string()) {
        merges.at(rank).fail("expected a merge [left, right]");
      }
      a = m[0].get_ref<const std::string&>();
      b = m[1].get_ref<const std::string&>();
    }
    const auto lookup = [&](std::string_view token) {
      auto it = vocab_.find(token);
      if (it == vocab_.end()) {
        merges.at(rank).fail(fmt::format("merge token '{}' is not in the vocab", token));
      }
      return it->second;
    };
    const std::int32_t a_id = lookup(a), b_id = lookup(b);  // HF reports them in this order
    merged.assign(a);
    merged.append(b.substr(std::min(continuing_subword_prefix_.size(), b.size())));
    merges_->put(pair_key(a_id, b_id), static_cast<std::int32_t>(rank), lookup(merged));
  }
}

std::optional<std::int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size() || !has_token_[id]) return nullptr;
  return &tokens_[id];
}

void BpeModel::tokenize(std::string_view word, std::vector<std::int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable && cache_->lookup(word, out)) return;
  const std::size_t first = out.size();
  merge_word(word, out);
  if (cacheable) cache_->insert(word, out.data() + first, out.size() - first);
}

// Initial symbols: one per character (with prefix/suffix), byte tokens for unknown characters
// when byte_fallback is on, else the unk token (fused when fuse_unk). Mirrors HF's merge_word,
// including that a pending unk is flushed only by the next in-vocab character.
std::int32_t BpeModel::char_symbols(std::string_view word, std::vector<std::int32_t>& ids,
                                    std::vector<std::uint32_t>& lens) const {
  std::optional<std::pair<std::int32_t, std::uint32_t>> unk;
  std::string piece;
  for (std::size_t pos = 0; pos < word.size();) {
    const std::size_t n = utf8_length(static_cast<unsigned char>(word[pos]));
    const bool is_first = pos == 0, is_last = pos + n >= word.size();
    piece.clear();
    if (!is_first) piece += continuing_subword_prefix_;
    piece.append(word.substr(pos, n));
    if (is_last) piece += end_of_word_suffix_;
    pos += n;
    if (auto it = vocab_.find(piece); it != vocab_.end()) {
      if (unk) {
        ids.push_back(unk->first);
        lens.push_back(unk->second);
        unk.reset();
      }
      ids.push_back(it->second);
      lens.push_back(static_cast<std::uint32_t>(n));
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : piece) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (char c : piece) {
          ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
          lens.push_back(1);
        }
        continue;
      }
    }
    if (!unk_id_) continue;  // no unk token: HF drops the character
    if (unk && fuse_unk_) {
      unk->second += static_cast<std::uint32_t>(n);
    } else {
      if (unk) {
        ids.push_back(unk->first);
        lens.push_back(unk->second);
      }
      unk = std::make_pair(*unk_id_, static_cast<std::uint32_t>(n));
    }
  }
  if (unk) {
    ids.push_back(unk->first);
    lens.push_back(unk->second);
  }
  return static_cast<std::int32_t>(ids.size());
}

void BpeModel::merge_word(std::string_view word, std::vector<std::int32_t>& out) const {
  struct Symbol {
    std::int32_t id;
    std::int32_t prev, next;
    std::uint32_t len;
  };
  struct Merge {
    std::int32_t rank;
    std::int32_t pos;
    std::int32_t new_id;
    // Min-heap on (rank, pos).
    bool operator<(const Merge& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<std::int32_t> ids;
  thread_local std::vector<std::uint32_t> lens;
  ids.clear();
  lens.clear();
  const std::int32_t n = char_symbols(word, ids, lens);
  std::vector<Symbol> symbols(n);
  for (std::int32_t i = 0; i < n; ++i)
    symbols[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, lens[i]};

  std::priority_queue<Merge> queue;
  for (std::int32_t i = 0; i + 1 < n; ++i) {
    if (const auto* m = merges_->get(pair_key(symbols[i].id, symbols[i + 1].id))) {
      queue.push({m->rank, i, m->id});
    }
  }
  while (!queue.empty()) {
    const Merge top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    const Symbol right = symbols[left.next];
    // Skip entries made stale by an earlier merge.
    const auto* current = merges_->get(pair_key(left.id, right.id));
    if (current == nullptr || current->id != top.new_id) continue;
    symbols[left.next].len = 0;
    left.id = top.new_id;
    left.len += right.len;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) {
      if (const auto* m = merges_->get(pair_key(symbols[left.prev].id, left.id))) {
        queue.push({m->rank, left.prev, m->id});
      }
    }
    if (left.next >= 0) {
      if (const auto* m = merges_->get(pair_key(left.id, symbols[left.next].id))) {
        queue.push({m->rank, top.pos, m->id});
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.len != 0) out.push_back(s.id);
  }
}

}  // namespace slmq::tokenizer
