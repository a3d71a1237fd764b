#pragma once
// WikiText-2 as the two consumers read it: the document-level pages of lm-eval's `wikitext` task
// (with its detokenizer), and the rows of HF `wikitext` that the "Wiki" token perplexity and the
// `wikitext` calibration format join. Missing or malformed files throw DataError naming the file.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace slmq::data {

// WikiText-2 test documents (EleutherAI/wikitext_document_level pages): from the HF export
// wikitext2/document_level/test.jsonl ("page") when present, else rebuilt from
// wikitext2/wiki.test.raw the way lm-eval's dataset script built them (spec §7.1).
std::vector<std::string> load_wikitext_pages(const std::filesystem::path& data_dir);
std::vector<std::string> wikitext_pages_from_raw(const std::string& raw_text);
// lm-eval's wikitext_detokenizer (spec §7.2), rule for rule: the text that is scored.
std::string wikitext_detokenize(const std::string& page);

// The rows of HF `wikitext` (wikitext-2-raw-v1): the lines of wiki.test.raw as the HF dataset
// script yields them (huggingface/datasets datasets/wikitext/wikitext.py, _generate_examples): the
// file read in Python text mode ("\r\n" and "\r" become "\n"), one row per line, kept with its
// "\n" when line.strip() is non-empty, else "" (4358 rows for the test split). The corpus of the
// "Wiki" token perplexity (eval/wiki_corpus.h) and the `wikitext` calibration format.
//
// The HF rows from the raw file's text (already decoded as the file's bytes; DataError on
// invalid UTF-8 from py_strip).
std::vector<std::string> wikitext_rows_from_raw(std::string_view raw_text);

// The test rows: from the HF export wikitext2/wikitext-2-raw-v1/test.jsonl ("text" per row) when
// present, else rebuilt from wikitext2/wiki.test.raw. DataError naming the file when missing.
std::vector<std::string> load_wikitext2_test_rows(const std::filesystem::path& data_dir);

}  // namespace slmq::data
