#include "slmq/data/wikitext.h"

#include <utility>

#include "slmq/data/data_files.h"
#include "slmq/data/py_regex.h"
#include "slmq/data/py_text.h"

namespace slmq::data {
namespace fs = std::filesystem;
namespace {

std::string ws_pattern(const std::string& pattern) {
  // The lm-eval patterns use Python's Unicode \s; spell it out as an explicit class.
  return py_replace(pattern, "\\s", std::string("[") + kPyWhitespaceClass + "]");
}

// Zero text would give a perplexity of exp(0 / 0) or a fabricated 1.0: the file is wrong.
std::vector<std::string> with_text(std::vector<std::string> texts, const fs::path& file) {
  for (const auto& t : texts)
    if (!py_strip(t).empty()) return texts;
  throw_data_error(file, 0, "holds no text");
}

}  // namespace

std::vector<std::string> wikitext_pages_from_raw(const std::string& raw_text) {
  std::vector<std::string> pages;
  std::string current;
  bool have_lines = false;
  for (const auto& line : split_lines(raw_text)) {
    const std::string r = py_strip(py_replace(py_replace(line, "= = =", "==="), "= =", "=="));
    const bool heading = r.size() >= 2 && r.compare(0, 2, "= ") == 0 && r.size() >= 2 &&
                         r.compare(r.size() - 2, 2, " =") == 0;
    if (heading) {
      if (!py_strip(current).empty()) pages.push_back(current);
      current.clear();
      have_lines = false;
    }
    if (have_lines) current += "\n";
    current += line;
    have_lines = true;
  }
  pages.push_back(current);
  return pages;
}

std::vector<std::string> load_wikitext_pages(const fs::path& data_dir) {
  const fs::path hf = data_dir / "wikitext2" / "document_level" / "test.jsonl";
  if (fs::exists(hf)) {
    std::vector<std::string> pages;
    for (const auto& [row, line] : read_jsonl(hf))
      pages.push_back(json_string(row, "page", hf, line));
    return with_text(std::move(pages), hf);
  }
  const fs::path raw = data_dir / "wikitext2" / "wiki.test.raw";
  std::string text = read_text_file(raw);
  // Python's text mode reads "\r\n" and "\r" as "\n".
  text = py_replace(py_replace(text, "\r\n", "\n"), "\r", "\n");
  return with_text(wikitext_pages_from_raw(text), raw);
}

std::vector<std::string> wikitext_rows_from_raw(std::string_view raw_text) {
  // Python's text mode reads "\r\n" and "\r" as "\n" before splitting lines.
  const std::string text = py_replace(py_replace(raw_text, "\r\n", "\n"), "\r", "\n");
  std::vector<std::string> rows;
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t nl = text.find('\n', begin);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string line = text.substr(begin, end - begin);
    rows.push_back(py_strip(line).empty() ? std::string() : std::move(line));
    begin = end;
  }
  return rows;
}

std::vector<std::string> load_wikitext2_test_rows(const fs::path& data_dir) {
  const fs::path hf = data_dir / "wikitext2" / "wikitext-2-raw-v1" / "test.jsonl";
  if (fs::exists(hf)) {
    std::vector<std::string> rows;
    for (const auto& [row, line] : read_jsonl(hf))
      rows.push_back(json_string(row, "text", hf, line));
    return with_text(std::move(rows), hf);
  }
  const fs::path raw = data_dir / "wikitext2" / "wiki.test.raw";
  return with_text(wikitext_rows_from_raw(read_text_file(raw)), raw);
}

std::string wikitext_detokenize(const std::string& page) {
  static const PyRegex kSlashNum("/' [0-9]/");
  static const PyRegex kParens(ws_pattern("\\(\\s*([^\\)]*?)\\s*\\)"));
  static const PyRegex kBrackets(ws_pattern("\\[\\s*([^\\]]*?)\\s*\\]"));
  static const PyRegex kBraces(ws_pattern("\\{\\s*([^}]*?)\\s*\\}"));
  static const PyRegex kDquotes(ws_pattern("\"\\s*([^\"]*?)\\s*\""));
  static const PyRegex kSquotes(ws_pattern("'\\s*([^']*?)\\s*'"));
  std::string s = py_replace(page, "s '", "s'");
  s = kSlashNum.sub(s, "/'[0-9]/");
  for (const auto& [from, to] : {std::pair{" @-@ ", "-"},
                                 {" @,@ ", ","},
                                 {" @.@ ", "."},
                                 {" : ", ": "},
                                 {" ; ", "; "},
                                 {" . ", ". "},
                                 {" ! ", "! "},
                                 {" ? ", "? "},
                                 {" , ", ", "}}) {
    s = py_replace(s, from, to);
  }
  s = kParens.sub(s, "(\\1)");
  s = kBrackets.sub(s, "[\\1]");
  s = kBraces.sub(s, "{\\1}");
  s = kDquotes.sub(s, "\"\\1\"");
  s = kSquotes.sub(s, "'\\1'");
  for (const auto& [from, to] : {std::pair{"= = = =", "===="},
                                 {"= = =", "==="},
                                 {"= =", "=="},
                                 {" \u00b0 ", "\u00b0"},
                                 {" \n", "\n"},
                                 {"\n ", "\n"},
                                 {" N ", " 1 "},
                                 {" 's", "'s"}}) {
    s = py_replace(s, from, to);
  }
  return s;
}

}  // namespace slmq::data
