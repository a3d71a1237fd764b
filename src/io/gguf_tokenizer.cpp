// tokenizer.json equivalent for byte-level BPE vocabularies stored in GGUF (tokenizer.ggml.model
// "gpt2"). The pre-tokenizer is chosen from tokenizer.ggml.pre the way llama.cpp chooses its
// split regexes (llama-vocab.cpp), written with the HF components the original tokenizer.json
// files use, so the result tokenizes as llama.cpp and the original HF tokenizer do. (transformers'
// own GGUF conversion ignores tokenizer.ggml.pre and always uses the GPT-2 regex.)
// SentencePiece vocabularies (tokenizer.ggml.model "llama") are in gguf_spm_tokenizer.cpp.
#include <fmt/format.h>

#include <optional>
#include <set>
#include <string_view>

#include "gguf_tokenizer_parts.h"
#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io {
namespace {

using detail::kTypeControl;
using detail::kTypeUnknown;
using detail::kTypeUserDefined;

constexpr const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

nlohmann::json byte_level(bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", false},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

nlohmann::json split(const char* regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}

struct PreTokenizer {
  nlohmann::json pre_tokenizer;
  nlohmann::json normalizer;  // null when none
  bool ignore_merges = false;
};

std::optional<PreTokenizer> pre_tokenizer_named(const std::string& pre) {
  static const std::set<std::string_view> kDigitsThenGpt2{"smollm",    "starcoder", "refact",
                                                          "command-r", "codeshell", "exaone"};
  static const std::set<std::string_view> kGpt2{"gpt2", "mpt", "olmo", "jais", "default"};
  static const std::set<std::string_view> kLlama3{"llama-bpe", "llama3", "llama-v3"};
  static const std::set<std::string_view> kQwen2{"qwen2", "stablelm2"};
  if (kDigitsThenGpt2.count(pre)) {
    // Every digit on its own, then the GPT-2 split (HF: Digits(individual) + ByteLevel).
    return PreTokenizer{
        {{"type", "Sequence"}, {"pretokenizers", {split(R"(\p{N})"), byte_level(true, true)}}},
        nullptr};
  }
  if (kGpt2.count(pre)) return PreTokenizer{byte_level(true, true), nullptr};
  if (kLlama3.count(pre)) {
    return PreTokenizer{
        {{"type", "Sequence"}, {"pretokenizers", {split(kLlama3Regex), byte_level(true, false)}}},
        nullptr,
        true};
  }
  if (kQwen2.count(pre)) {
    return PreTokenizer{
        {{"type", "Sequence"}, {"pretokenizers", {split(kQwen2Regex), byte_level(false, false)}}},
        {{"type", "NFC"}}};
  }
  return std::nullopt;
}

PreTokenizer pre_tokenizer_for(const GgufFile& file) {
  const std::string pre = file.find_string("tokenizer.ggml.pre").value_or("default");
  if (auto p = pre_tokenizer_named(pre)) return *p;
  throw UnsupportedError(fmt::format("GGUF '{}': tokenizer.ggml.pre '{}' is not supported",
                                     file.path().string(), pre));
}

// The splitting a pre-tokenizer does, as (kind, argument) steps: Digits(individual) and
// Split(\p{N}, Isolated) are the same step; ByteLevel's trim_offsets and add_prefix_space (off
// in every case here) do not change the split.
std::vector<std::pair<std::string, std::string>> split_steps(const nlohmann::json& p) {
  std::vector<std::pair<std::string, std::string>> steps;
  if (!p.is_object()) return steps;
  const std::string type = p.value("type", "");
  if (type == "Sequence") {
    for (const auto& item : p.value("pretokenizers", nlohmann::json::array())) {
      auto inner = split_steps(item);
      steps.insert(steps.end(), inner.begin(), inner.end());
    }
  } else if (type == "Digits" && p.value("individual_digits", false)) {
    steps.emplace_back("split", R"(\p{N})");
  } else if (type == "Split" && p.value("behavior", "") == "Isolated" && !p.value("invert", true) &&
             p.contains("pattern") && p["pattern"].contains("Regex")) {
    steps.emplace_back("split", p["pattern"]["Regex"].get<std::string>());
  } else if (type == "ByteLevel") {
    steps.emplace_back("byte_level", p.value("use_regex", true) ? "regex" : "");
  } else {
    steps.emplace_back(type, p.dump());
  }
  return steps;
}

// Merges as [left, right] pairs; both sides must be vocabulary tokens (HF tokenizers refuses
// the file otherwise).
nlohmann::json merges_json(const GgufFile& file, const nlohmann::json& vocab) {
  nlohmann::json merges = nlohmann::json::array();
  const auto raw = file.get_string_array("tokenizer.ggml.merges");
  for (std::size_t i = 0; i < raw.size(); ++i) {
    // Byte-level tokens never contain a raw space, so the single space separates the pair.
    const auto sp = raw[i].find(' ');
    if (sp == std::string::npos || raw[i].find(' ', sp + 1) != std::string::npos) {
      throw DataError(
          fmt::format("GGUF '{}': metadata key 'tokenizer.ggml.merges': entry {} "
                      "('{}') is not two tokens separated by one space",
                      file.path().string(), i, raw[i]));
    }
    std::string left = raw[i].substr(0, sp), right = raw[i].substr(sp + 1);
    for (const auto* side : {&left, &right}) {
      if (!vocab.contains(*side)) {
        throw DataError(
            fmt::format("GGUF '{}': metadata key 'tokenizer.ggml.merges': entry {} "
                        "('{}'): '{}' is not in the vocabulary",
                        file.path().string(), i, raw[i], *side));
      }
    }
    merges.push_back({std::move(left), std::move(right)});
  }
  return merges;
}

nlohmann::json added_tokens_json(const GgufFile& file, const std::vector<std::string>& tokens) {
  nlohmann::json added = nlohmann::json::array();
  if (file.find("tokenizer.ggml.token_type") == nullptr) return added;
  const auto types = file.get_int_array("tokenizer.ggml.token_type");
  if (types.size() != tokens.size()) {
    throw DataError(
        fmt::format("GGUF '{}': metadata key 'tokenizer.ggml.token_type': {} types "
                    "for {} tokens",
                    file.path().string(), types.size(), tokens.size()));
  }
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    const auto t = types[id];
    if (t != kTypeControl && t != kTypeUserDefined && t != kTypeUnknown) continue;
    added.push_back({{"id", id},
                     {"content", tokens[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", t != kTypeUserDefined}});
  }
  return added;
}

nlohmann::json post_processor(const GgufFile& file, const std::vector<std::string>& tokens) {
  const bool add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(false);
  const bool add_eos = file.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  nlohmann::json templ = detail::template_processor(file, tokens, add_bos, add_eos);
  if (!templ.is_null()) return templ;
  return {{"type", "ByteLevel"},
          {"add_prefix_space", true},
          {"trim_offsets", false},
          {"use_regex", true}};
}

}  // namespace

namespace detail {

nlohmann::json template_processor(const GgufFile& file, const std::vector<std::string>& tokens,
                                  bool add_bos, bool add_eos) {
  if (!add_bos && !add_eos) return nullptr;
  nlohmann::json single = nlohmann::json::array(), pair = nlohmann::json::array();
  nlohmann::json specials = nlohmann::json::object();
  auto special = [&](const char* key, int type_id) -> nlohmann::json {
    const auto id = file.get_uint(fmt::format("tokenizer.ggml.{}_token_id", key));
    if (id >= tokens.size()) {
      throw DataError(
          fmt::format("GGUF '{}': metadata key 'tokenizer.ggml.{}_token_id': id {} "
                      "is outside the vocabulary",
                      file.path().string(), key, id));
    }
    specials[tokens[id]] = {{"id", tokens[id]}, {"ids", {id}}, {"tokens", {tokens[id]}}};
    return {{"SpecialToken", {{"id", tokens[id]}, {"type_id", type_id}}}};
  };
  for (int seq = 0; seq < 2; ++seq) {
    auto& out = seq == 0 ? single : pair;
    for (int part = 0; part <= seq; ++part) {
      if (add_bos) out.push_back(special("bos", part));
      out.push_back({{"Sequence", {{"id", part == 0 ? "A" : "B"}, {"type_id", part}}}});
      if (add_eos) out.push_back(special("eos", part));
    }
  }
  return {{"type", "TemplateProcessing"},
          {"single", single},
          {"pair", pair},
          {"special_tokens", specials}};
}

}  // namespace detail

std::optional<std::string> gguf_pre_for_hf(const nlohmann::json& normalizer,
                                           const nlohmann::json& pre_tokenizer) {
  const auto steps = split_steps(pre_tokenizer);
  for (const char* name : {"smollm", "gpt2", "llama-bpe", "qwen2"}) {
    const PreTokenizer candidate = *pre_tokenizer_named(name);
    if (split_steps(candidate.pre_tokenizer) == steps &&
        candidate.normalizer.is_null() == normalizer.is_null() &&
        (normalizer.is_null() ||
         candidate.normalizer.value("type", "") == normalizer.value("type", "")))
      return std::string(name);
  }
  return std::nullopt;
}

nlohmann::json gguf_to_hf_tokenizer(const GgufFile& file) {
  const std::string& model = file.get_string("tokenizer.ggml.model");
  if (model == "llama") return detail::spm_tokenizer_json(file);
  if (model != "gpt2") {
    throw UnsupportedError(
        fmt::format("GGUF '{}': tokenizer.ggml.model '{}' is not supported "
                    "(supported: 'gpt2' byte-level BPE, 'llama' SentencePiece BPE)",
                    file.path().string(), model));
  }
  const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  nlohmann::json vocab = nlohmann::json::object();
  // A repeated string keeps its last id, as in llama.cpp and transformers.
  for (std::size_t id = 0; id < tokens.size(); ++id) vocab[tokens[id]] = id;
  PreTokenizer pre = pre_tokenizer_for(file);
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added_tokens_json(file, tokens)},
      {"normalizer", pre.normalizer},
      {"pre_tokenizer", pre.pre_tokenizer},
      {"post_processor", post_processor(file, tokens)},
      {"decoder",
       {{"type", "ByteLevel"},
        {"add_prefix_space", true},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", pre.ignore_merges},
        {"vocab", vocab},
        {"merges", merges_json(file, vocab)}}},
  };
}

}  // namespace slmq::io
