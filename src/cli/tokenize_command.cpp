// `slmquant tokenize MODEL TEXT`: the ids and pieces HF tokenizers would produce, for
// checking a tokenizer by eye. `--file F`: many texts in one call, one per line (a .jsonl file:
// one JSON object per line, its --text-key field, or a JSON string), printed as JSON lines
// {"ids": [...]} in input order; with --repeat, an encode-throughput measurement instead.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/model/model_tokenizer.h"

namespace slmq::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer_path;
  std::string text;
  std::string file;
  bool no_special = false;
  bool json = false;
  bool whole_file = false;
  std::string text_key = "text";
  int repeat = 0;
};

// The texts of --file: each line without its line break, or each JSONL record's text.
std::vector<std::string> texts_of(const std::string& path, const std::string& content,
                                  const std::string& key) {
  std::vector<std::string> texts;
  const bool jsonl = path.ends_with(".jsonl");
  std::size_t start = 0, line = 0;
  while (start < content.size()) {
    const std::size_t nl = content.find('\n', start);
    const std::size_t end = nl == std::string::npos ? content.size() : nl;
    std::string text = content.substr(start, end - start);
    start = end + 1;
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (!jsonl) {
      texts.push_back(std::move(text));
      continue;
    }
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json row;
    try {
      row = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw DataError(fmt::format("{}:{}: invalid JSON: {}", path, line, e.what()));
    }
    if (row.is_object() && row.contains(key) && row[key].is_string()) {
      texts.push_back(row[key].get<std::string>());
    } else if (row.is_string()) {
      texts.push_back(row.get<std::string>());
    } else {
      throw DataError(fmt::format("{}:{}: expected a JSON string or an object with a string '{}'",
                                  path, line, key));
    }
  }
  return texts;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: cannot open", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Splits into lines that keep their '\n', the unit the benchmark encodes one call at a time.
std::vector<std::string_view> lines_of(const std::string& text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
    lines.emplace_back(text.data() + start, end - start);
    start = end;
  }
  return lines;
}

// Encodes every line of the file `repeat` times (after one warm-up pass) and prints MB/s.
int run_benchmark(const Tokenizer& tokenizer, const TokenizeOptions& o) {
  const std::string text = read_text_file(o.file);
  const auto lines = lines_of(text);
  std::size_t tokens = 0;
  for (auto line : lines) tokens += tokenizer.encode(line, !o.no_special).size();
  std::vector<double> seconds;
  for (int r = 0; r < o.repeat; ++r) {
    const auto t0 = SteadyClock::now();
    for (auto line : lines) tokenizer.encode(line, !o.no_special);
    seconds.push_back(seconds_since(t0));
  }
  nlohmann::json out = {{"file", o.file},
                        {"bytes", text.size()},
                        {"lines", lines.size()},
                        {"tokens", tokens},
                        {"seconds", seconds},
                        {"threads", 1},
                        {"unit", "one encode call per line"}};
  double best = *std::min_element(seconds.begin(), seconds.end());
  out["best_mb_per_s"] = text.size() / best / 1e6;
  std::cout << out.dump() << "\n";
  return 0;
}

// One JSON line per text, the tokenizer loaded once.
int run_many(const Tokenizer& tokenizer, const TokenizeOptions& o) {
  for (const auto& text : texts_of(o.file, read_text_file(o.file), o.text_key)) {
    const auto ids = tokenizer.encode(text, !o.no_special);
    nlohmann::json out = {{"ids", ids}};
    if (o.json) {
      nlohmann::json pieces = nlohmann::json::array();
      for (auto id : ids) pieces.push_back(tokenizer.id_to_token(id).value_or(""));
      out["pieces"] = pieces;
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}

int run_tokenize(const TokenizeOptions& o) {
  if (o.file.empty() == o.text.empty()) throw ConfigError("tokenize: give either TEXT or --file");
  const Tokenizer tokenizer = load_model_tokenizer(o.tokenizer_path);
  if (!o.file.empty() && o.repeat > 0) return run_benchmark(tokenizer, o);
  if (!o.file.empty() && !o.whole_file) return run_many(tokenizer, o);
  const std::string text = o.file.empty() ? o.text : read_text_file(o.file);
  const auto ids = tokenizer.encode(text, !o.no_special);
  if (o.json) {
    nlohmann::json pieces = nlohmann::json::array();
    for (auto id : ids) pieces.push_back(tokenizer.id_to_token(id).value_or(""));
    std::cout << nlohmann::json{{"ids", ids}, {"pieces", pieces}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  for (auto id : ids) {
    std::cout << id << "\t" << tokenizer.id_to_token(id).value_or("") << "\n";
  }
  std::cout << ids.size() << " tokens\n";
  return 0;
}

const RegisterCommand kTokenize{
    "tokenize", "Print the token ids and pieces of a text", [](CLI::App& app) {
      auto o = std::make_shared<TokenizeOptions>();
      app.add_option("MODEL", o->tokenizer_path,
                     "model (HF folder or .gguf), tokenizer.json, or a folder holding one")
          ->required();
      app.add_option("text", o->text, "text to encode");
      app.add_option("--file", o->file,
                     "encode many texts: one per line, or a .jsonl file (one JSON line of ids "
                     "each)");
      app.add_option("--text-key", o->text_key, "--file .jsonl: the field holding the text")
          ->capture_default_str();
      app.add_flag("--whole-file", o->whole_file, "--file: the whole file is one text");
      app.add_flag("--no-special", o->no_special, "do not add BOS/EOS (add_special_tokens=False)");
      app.add_flag("--json", o->json, "print {\"ids\": [...], \"pieces\": [...]}");
      app.add_option("--repeat", o->repeat,
                     "benchmark: encode --file line by line this many times, print MB/s");
      return [o] { return run_tokenize(*o); };
    }};

}  // namespace
}  // namespace slmq::cli
