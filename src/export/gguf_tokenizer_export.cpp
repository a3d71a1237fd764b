// tokenizer.ggml.* for the GGUF writer: copied key for key from a GGUF source, or converted from
// tokenizer.json as llama.cpp's convert_hf_to_gguf.py does for byte-level BPE (vocab by id with
// "[PAD<id>]" for unused ids, token types from the added tokens, merges as "a b", the pre-tokenizer
// name whose split is the same, special token ids, add_bos/add_eos, chat template).
#include "gguf_tokenizer_export.h"

#include <fmt/format.h>

#include <map>

#include "slmq/core/error.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/gguf_model.h"
#include "slmq/io/gguf_writer.h"

namespace slmq::gguf_export {
namespace {

// llama_token_type values (gguf_tokenizer_parts.h spells them for the reader).
constexpr std::int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

bool is_gguf_file(const std::filesystem::path& p) {
  return std::filesystem::is_regular_file(p) && p.extension() == ".gguf";
}

std::string merge_string(const nlohmann::json& m) {
  if (m.is_string()) return m.get<std::string>();
  return m.at(0).get<std::string>() + " " + m.at(1).get<std::string>();
}

// Does the post-processor put `token` before (at_start) or after each sequence?
bool template_adds(const nlohmann::json& post, const std::string& token, bool at_start) {
  if (!post.is_object() || post.value("type", "") != "TemplateProcessing") return false;
  const auto& single = post["single"];
  if (single.empty()) return false;
  const auto& item = at_start ? single.front() : single.back();
  return item.contains("SpecialToken") && item["SpecialToken"].value("id", "") == token;
}

void from_tokenizer_json(const ModelSource& source, const ModelConfig& m, io::GgufWriter& w) {
  const nlohmann::json& t = source.tokenizer;
  const std::string where = source.path.string() + " tokenizer.json";
  const nlohmann::json& model = t.at("model");
  if (model.value("type", "") != "BPE" || model.value("byte_fallback", false)) {
    throw UnsupportedError(fmt::format(
        "GGUF export: '{}': only byte-level BPE tokenizers are converted from tokenizer.json "
        "(model type '{}'{}); export from the model's .gguf to keep a SentencePiece vocabulary",
        where, model.value("type", ""),
        model.value("byte_fallback", false) ? ", byte fallback" : ""));
  }
  const auto pre = io::gguf_pre_for_hf(t.value("normalizer", nlohmann::json()),
                                       t.value("pre_tokenizer", nlohmann::json()));
  if (!pre) {
    throw UnsupportedError(fmt::format(
        "GGUF export: '{}': the pre-tokenizer {} matches none llama.cpp names here (smollm, gpt2, "
        "llama-bpe, qwen2)",
        where, t.value("pre_tokenizer", nlohmann::json()).dump()));
  }
  std::map<std::int64_t, std::pair<std::string, std::int32_t>> by_id;
  for (const auto& [token, id] : model.at("vocab").items())
    by_id[id.get<std::int64_t>()] = {token, kNormal};
  for (const auto& a : t.value("added_tokens", nlohmann::json::array())) {
    by_id[a.at("id").get<std::int64_t>()] = {a.at("content").get<std::string>(),
                                             a.value("special", false) ? kControl : kUserDefined};
  }
  const std::int64_t n =
      std::max<std::int64_t>(m.vocab_size, by_id.empty() ? 0 : by_id.rbegin()->first + 1);
  std::vector<std::string> tokens;
  std::vector<std::int32_t> types;
  for (std::int64_t id = 0; id < n; ++id) {
    auto it = by_id.find(id);
    tokens.push_back(it == by_id.end() ? fmt::format("[PAD{}]", id) : it->second.first);
    types.push_back(it == by_id.end() ? kUnused : it->second.second);
  }
  std::vector<std::string> merges;
  for (const auto& merge : model.value("merges", nlohmann::json::array()))
    merges.push_back(merge_string(merge));
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", *pre);
  w.set_strings("tokenizer.ggml.tokens", tokens);
  w.set_i32s("tokenizer.ggml.token_type", types);
  w.set_strings("tokenizer.ggml.merges", merges);
  if (m.bos_token_id) w.set_u32("tokenizer.ggml.bos_token_id", *m.bos_token_id);
  if (!m.eos_token_ids.empty()) w.set_u32("tokenizer.ggml.eos_token_id", m.eos_token_ids.front());
  if (m.pad_token_id) w.set_u32("tokenizer.ggml.padding_token_id", *m.pad_token_id);
  const nlohmann::json& config = source.tokenizer_config;
  const auto post = t.value("post_processor", nlohmann::json());
  const std::string bos = m.bos_token_id && *m.bos_token_id < n ? tokens[*m.bos_token_id] : "";
  const std::string eos = !m.eos_token_ids.empty() && m.eos_token_ids.front() < n
                              ? tokens[m.eos_token_ids.front()]
                              : "";
  bool add_bos = template_adds(post, bos, true), add_eos = template_adds(post, eos, false);
  if (config.is_object() && config.contains("add_bos_token") &&
      config["add_bos_token"].is_boolean())
    add_bos = config["add_bos_token"].get<bool>();
  if (config.is_object() && config.contains("add_eos_token") &&
      config["add_eos_token"].is_boolean())
    add_eos = config["add_eos_token"].get<bool>();
  w.set_bool("tokenizer.ggml.add_bos_token", add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", add_eos);
  if (config.is_object() && config.contains("chat_template")) {
    const auto& ct = config["chat_template"];
    if (ct.is_string()) w.set_string("tokenizer.chat_template", ct.get<std::string>());
    // A list of named templates (older transformers): llama.cpp reads the default one.
    if (ct.is_array()) {
      for (const auto& named : ct)
        if (named.value("name", "") == "default")
          w.set_string("tokenizer.chat_template", named.value("template", ""));
    }
  }
}

}  // namespace

void add_tokenizer(const ModelSource& source, const ModelConfig& m, io::GgufWriter& w) {
  if (is_gguf_file(source.path)) {
    const io::GgufFile file = io::GgufFile::open(source.path);
    for (const auto& [key, value] : file.metadata())
      if (key.starts_with("tokenizer.")) w.set(key, value);
    return;
  }
  if (source.tokenizer.is_null()) {
    throw DataError(fmt::format(
        "GGUF export: '{}' has no tokenizer.json; llama.cpp needs the vocabulary in the file",
        source.path.string()));
  }
  from_tokenizer_json(source, m, w);
}

}  // namespace slmq::gguf_export
