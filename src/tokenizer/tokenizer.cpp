#include "slmq/tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "slmq/core/error.h"
#include "slmq/tokenizer/added_vocabulary.h"
#include "slmq/tokenizer/bpe_model.h"
#include "slmq/tokenizer/decoder.h"
#include "slmq/tokenizer/normalizer.h"
#include "slmq/tokenizer/post_processor.h"
#include "slmq/tokenizer/pre_tokenizer.h"
#include "slmq/tokenizer/utf8.h"

namespace slmq {

using tokenizer::JsonView;

namespace {

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open", path.string()));
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
}

// bos_token and friends are either a string or an AddedToken object {"content": ...}.
std::optional<std::string> token_field(const JsonView& config, std::string_view key) {
  auto node = config.find(key);
  if (!node) return std::nullopt;
  if (node->is_string()) return node->as_string();
  return (*node)["content"].as_string();
}

std::optional<bool> bool_field(const JsonView& config, std::string_view key) {
  auto node = config.find(key);
  if (!node) return std::nullopt;
  return node->as_bool();
}

}  // namespace

TokenizerConfig TokenizerConfig::from_json(const nlohmann::json& config,
                                           const std::string& source) {
  const JsonView root(config, source);
  if (!root.is_object()) root.fail("expected an object");
  TokenizerConfig out;
  out.bos_token = token_field(root, "bos_token");
  out.eos_token = token_field(root, "eos_token");
  out.add_bos_token = bool_field(root, "add_bos_token");
  out.add_eos_token = bool_field(root, "add_eos_token");
  return out;
}

struct Tokenizer::Impl {
  explicit Impl(const JsonView& root) : model(root["model"]) {}

  std::unique_ptr<tokenizer::Normalizer> normalizer;
  std::unique_ptr<tokenizer::PreTokenizer> pre_tokenizer;
  tokenizer::BpeModel model;
  tokenizer::AddedVocabulary added;
  std::unique_ptr<tokenizer::PostProcessor> post_processor;
  std::unique_ptr<tokenizer::Decoder> decoder;
  std::optional<std::int32_t> bos, eos;
  bool extra_bos = false, extra_eos = false;
  std::size_t vocab_size = 0;

  void encode_plain(std::string_view text, bool at_origin, std::vector<std::int32_t>& ids) const;
};

Tokenizer::Tokenizer(const nlohmann::json& document, TokenizerConfig config, std::string source) {
  const JsonView root(document, source);
  if (!root.is_object()) root.fail("expected a tokenizer.json object");
  if (auto version = root.find("version"); version && version->as_string() != "1.0") {
    version->unsupported("tokenizer.json version '" + version->as_string() + "'");
  }
  impl_ = std::make_unique<Impl>(root);
  if (auto n = root.find("normalizer")) impl_->normalizer = tokenizer::make_normalizer(*n);
  if (auto p = root.find("pre_tokenizer")) impl_->pre_tokenizer = tokenizer::make_pre_tokenizer(*p);
  if (auto p = root.find("post_processor")) {
    impl_->post_processor = tokenizer::make_post_processor(*p);
  }
  if (auto d = root.find("decoder")) impl_->decoder = tokenizer::make_decoder(*d);
  if (auto a = root.find("added_tokens")) {
    impl_->added = tokenizer::AddedVocabulary(*a, impl_->normalizer.get(), impl_->model);
  }
  for (const auto& [name, out] :
       {std::pair{&config.bos_token, &impl_->bos}, std::pair{&config.eos_token, &impl_->eos}}) {
    if (!*name) continue;
    *out = token_to_id(**name);
    if (!*out) {
      throw DataError(fmt::format("{}: tokenizer_config names '{}' but no token has that text",
                                  source, **name));
    }
  }
  std::vector<std::int32_t> prefix, suffix;
  if (impl_->post_processor) {
    prefix = impl_->post_processor->prefix();
    suffix = impl_->post_processor->suffix();
  }
  impl_->extra_bos = config.add_bos_token.value_or(false) && impl_->bos &&
                     (prefix.empty() || prefix.front() != *impl_->bos);
  impl_->extra_eos = config.add_eos_token.value_or(false) && impl_->eos &&
                     (suffix.empty() || suffix.back() != *impl_->eos);
  std::int32_t max_id = impl_->model.max_id();
  for (const auto& t : impl_->added.tokens()) max_id = std::max(max_id, t.id);
  impl_->vocab_size = static_cast<std::size_t>(max_id + 1);
}

Tokenizer Tokenizer::from_file(const std::filesystem::path& path) {
  const auto file = std::filesystem::is_directory(path) ? path / "tokenizer.json" : path;
  const auto t0 = std::chrono::steady_clock::now();
  const nlohmann::json document = read_json(file);
  const auto t1 = std::chrono::steady_clock::now();
  TokenizerConfig config;
  const auto config_path = file.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    config = TokenizerConfig::from_json(read_json(config_path), config_path.string());
  }
  Tokenizer tokenizer(document, std::move(config), file.string());
  const auto t2 = std::chrono::steady_clock::now();
  spdlog::debug("{}: JSON parsed in {:.2f} s, tokenizer built in {:.2f} s", file.string(),
                std::chrono::duration<double>(t1 - t0).count(),
                std::chrono::duration<double>(t2 - t1).count());
  return tokenizer;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

void Tokenizer::Impl::encode_plain(std::string_view text, bool at_origin,
                                   std::vector<std::int32_t>& ids) const {
  std::string normalized(text);
  if (normalizer) normalizer->normalize(normalized);
  std::vector<tokenizer::Segment> segments;
  added.split(normalized, /*normalized=*/true, segments);
  std::vector<tokenizer::Fragment> fragments;
  for (const auto& segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    fragments.clear();
    fragments.push_back({std::string(segment.text), at_origin && segment.offset == 0});
    if (pre_tokenizer) pre_tokenizer->pre_tokenize(fragments);
    for (const auto& fragment : fragments) model.tokenize(fragment.text, ids);
  }
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view input, bool add_special_tokens) const {
  std::string repaired;
  std::string_view text = input;
  if (!tokenizer::is_valid_utf8(input)) {
    repaired = tokenizer::sanitize_utf8(input);
    text = repaired;
  }
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<tokenizer::Segment> segments;
  impl_->added.split(text, /*normalized=*/false, segments);
  for (const auto& segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
    } else {
      impl_->encode_plain(segment.text, segment.offset == 0, ids);
    }
  }
  if (add_special_tokens) {
    if (impl_->post_processor) impl_->post_processor->add_special_tokens(ids);
    if (impl_->extra_bos) ids.insert(ids.begin(), *impl_->bos);
    if (impl_->extra_eos) ids.push_back(*impl_->eos);
  }
  return ids;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const std::int32_t id : ids) {
    const std::string* token = impl_->added.decode_form(id);
    if (token == nullptr) token = impl_->model.id_to_token(id);
    if (token == nullptr) continue;
    if (skip_special_tokens && impl_->added.is_special_content(*token)) continue;
    tokens.push_back(*token);
  }
  if (!impl_->decoder) {
    std::string joined;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) joined += ' ';
      joined += tokens[i];
    }
    return joined;
  }
  impl_->decoder->decode_chain(tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::optional<std::string> Tokenizer::id_to_token(std::int32_t id) const {
  if (const std::string* t = impl_->added.decode_form(id)) return *t;
  if (const std::string* t = impl_->model.id_to_token(id)) return *t;
  return std::nullopt;
}

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added.token_to_id(token)) return id;
  return impl_->model.token_to_id(token);
}

std::size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
std::optional<std::int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<std::int32_t> Tokenizer::eos_id() const { return impl_->eos; }

bool Tokenizer::is_special(std::int32_t id) const {
  const auto* token = impl_->added.find(id);
  return token != nullptr && token->special;
}

}  // namespace slmq
