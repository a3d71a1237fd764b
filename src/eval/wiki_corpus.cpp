#include "slmq/eval/wiki_corpus.h"

#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/data/data_files.h"
#include "slmq/data/py_text.h"
#include "slmq/data/wikitext.h"

namespace fs = std::filesystem;

namespace slmq::eval {

std::string join_corpus_rows(const std::vector<std::string>& rows, size_t limit) {
  const size_t n = limit == 0 ? rows.size() : std::min(limit, rows.size());
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += "\n\n";
    out += rows[i];
  }
  return out;
}

BosPolicy parse_corpus_bos(std::string_view name, std::string_view key) {
  if (auto policy = find_bos_policy(name)) return *policy;
  throw ConfigError(fmt::format("{}: expected default, always or never, got '{}'", key, name));
}

std::vector<int64_t> tokenize_corpus(std::string_view text, const Tokenizer& tokenizer,
                                     BosPolicy bos) {
  const auto ids = tokenizer.encode(text, /*add_special_tokens=*/bos != BosPolicy::kNever);
  std::vector<int64_t> out;
  out.reserve(ids.size() + 1);
  if (bos == BosPolicy::kAlways) {
    const auto bos_id = tokenizer.bos_id();
    if (!bos_id) throw ConfigError("--bos always: the model's tokenizer has no BOS token");
    if (ids.empty() || ids.front() != *bos_id) out.push_back(*bos_id);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

nlohmann::json TokenCorpus::to_json() const {
  return {{"name", name},
          {"rows", rows},
          {"joined_with", "\n\n"},
          {"text_bytes", text_bytes},
          {"tokens", static_cast<int64_t>(ids.size())},
          {"bos", bos_policy_name(bos)}};
}

TokenCorpus load_wikitext2_test_corpus(const fs::path& data_dir, const Tokenizer& tokenizer,
                                       BosPolicy bos) {
  const auto rows = data::load_wikitext2_test_rows(data_dir);
  const std::string text = join_corpus_rows(rows);
  TokenCorpus corpus;
  corpus.name = "wikitext-2-raw-v1 test";
  corpus.ids = tokenize_corpus(text, tokenizer, bos);
  corpus.rows = static_cast<int64_t>(rows.size());
  corpus.text_bytes = static_cast<int64_t>(text.size());
  corpus.bos = bos;
  return corpus;
}

}  // namespace slmq::eval
