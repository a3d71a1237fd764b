#pragma once
// The corpus of the "Wiki" token perplexity that GPTQ, SmoothQuant and AWQ report: the rows of
// HF `wikitext` (config wikitext-2-raw-v1, split test) joined with "\n\n" and tokenized once, as
// GPTQ's datautils.get_wikitext2 does: tokenizer("\n\n".join(testdata['text'])).
//
// The rows are the lines of wiki.test.raw as the HF dataset script yields them
// (huggingface/datasets datasets/wikitext/wikitext.py, _generate_examples): the file read in
// Python text mode ("\r\n" and "\r" become "\n"), one row per line, kept with its "\n" when
// line.strip() is non-empty, else "" (4358 rows for the test split; data/datasets.h reads them).
// See docs/eval.md.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "slmq/eval/evaluator.h"
#include "slmq/tokenizer/tokenizer.h"

namespace slmq::eval {

// "\n\n".join(rows[:limit]) (limit 0: every row).
std::string join_corpus_rows(const std::vector<std::string>& rows, size_t limit = 0);

// find_bos_policy(name); ConfigError naming `key` for any other name (names: bos_policy_name).
BosPolicy parse_corpus_bos(std::string_view name, std::string_view key);

// Token ids of a corpus text:
//  kTokenizerDefault  encode(text, add_special_tokens=true), what tokenizer(text) gives in HF
//                     (GPTQ's choice: BOS for Llama-2/3 tokenizers, none for GPT-2 style ones);
//  kAlways            the same with BOS prepended unless it already starts with BOS
//                     (ConfigError when the tokenizer has no BOS token);
//  kNever             encode(text, add_special_tokens=false).
std::vector<int64_t> tokenize_corpus(std::string_view text, const Tokenizer& tokenizer,
                                     BosPolicy bos);

// A tokenized corpus and what it was built from, for result files.
struct TokenCorpus {
  std::string name;  // e.g. "wikitext-2-raw-v1 test"
  std::vector<int64_t> ids;
  int64_t rows = 0;
  int64_t text_bytes = 0;
  BosPolicy bos = BosPolicy::kTokenizerDefault;

  nlohmann::json to_json() const;  // everything but the ids
};

// load_wikitext2_test_rows + join + tokenize_corpus.
TokenCorpus load_wikitext2_test_corpus(const std::filesystem::path& data_dir,
                                       const Tokenizer& tokenizer, BosPolicy bos);

}  // namespace slmq::eval
