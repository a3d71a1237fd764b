#pragma once
// slmq::Tokenizer: a Hugging Face tokenizer.json (BPE models) encoded and decoded in C++ with
// the same ids and text as the PyPI `tokenizers` package.
//
// Input text that is not valid UTF-8 is first repaired: every ill-formed sequence becomes U+FFFD,
// one per maximal subpart, exactly as Python's `bytes.decode("utf-8", "replace")` does; ids then
// match HF tokenizers on that repaired string. decode() always returns valid UTF-8.
//
// encode/decode and all accessors are const and thread-safe; one Tokenizer can serve many
// threads. Construction throws DataError for malformed files (naming file and JSON path) and
// UnsupportedError naming any component type that is not implemented.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slmq {

// The parts of tokenizer_config.json that change encoding (all optional).
struct TokenizerConfig {
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  // When true and the post-processor does not already add BOS (EOS), encode() with
  // add_special_tokens adds it, as transformers' Llama/Gemma tokenizers do.
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;

  // Reads tokenizer_config.json; `source` names it in errors.
  static TokenizerConfig from_json(const nlohmann::json& config, const std::string& source);
};

class Tokenizer {
 public:
  // `tokenizer_json` is a parsed tokenizer.json document (e.g. synthesized from GGUF metadata);
  // `source` names it in error messages.
  explicit Tokenizer(const nlohmann::json& tokenizer_json, TokenizerConfig config = {},
                     std::string source = "tokenizer.json");
  // `path` is a tokenizer.json or a folder holding one; a tokenizer_config.json beside it is
  // read when present.
  static Tokenizer from_file(const std::filesystem::path& path);

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Ids of `text`; with add_special_tokens, the post-processor's (and config's) BOS/EOS are
  // added. Special tokens written in the text are always recognised, as in HF.
  std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // Text of `ids`. Ids no token has are skipped, as in HF.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const;

  // The token string of `id` (as stored in the vocab, e.g. "Ġthe"), or nullopt.
  std::optional<std::string> id_to_token(std::int32_t id) const;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // One past the largest id of the model vocab and the added tokens (rows an embedding needs).
  std::size_t vocab_size() const;
  std::optional<std::int32_t> bos_id() const;
  std::optional<std::int32_t> eos_id() const;
  bool is_special(std::int32_t id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slmq
