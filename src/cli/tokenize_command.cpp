// `slmquant tokenize MODEL TEXT`: the ids and pieces HF tokenizers would produce, for
// checking a tokenizer by eye; with --file and --repeat, an encode-throughput measurement.
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
  int repeat = 0;
};

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

int run_tokenize(const TokenizeOptions& o) {
  const Tokenizer tokenizer = load_model_tokenizer(o.tokenizer_path);
  if (!o.file.empty() && o.repeat > 0) return run_benchmark(tokenizer, o);
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
      app.add_option("--file", o->file, "encode this file's contents instead of TEXT");
      app.add_flag("--no-special", o->no_special, "do not add BOS/EOS (add_special_tokens=False)");
      app.add_flag("--json", o->json, "print {\"ids\": [...], \"pieces\": [...]}");
      app.add_option("--repeat", o->repeat,
                     "benchmark: encode --file line by line this many times, print MB/s");
      return [o] { return run_tokenize(*o); };
    }};

}  // namespace
}  // namespace slmq::cli
