#include "slmq/data/data_files.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "slmq/core/error.h"
#include "slmq/core/escape.h"

namespace slmq::data {

std::filesystem::path resolve_data_dir(const std::filesystem::path& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  if (const char* env = std::getenv("SLMQ_DATA_DIR"); env != nullptr && *env != '\0') return env;
  if (std::filesystem::is_directory(kDefaultDataDir)) return kDefaultDataDir;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    if (auto found = data_dir_near(exe.parent_path())) return *found;
  }
  // Nothing found: the relative default, so the missing file's error names where it looked.
  return kDefaultDataDir;
}

std::optional<std::filesystem::path> data_dir_near(const std::filesystem::path& binary_dir) {
  std::error_code ec;
  // An installed binary (PREFIX/bin) keeps its data in PREFIX/share/slmquant/data; a build tree
  // (REPO/build, REPO/build/tests) sits below the checkout's assets/data.
  std::vector<std::filesystem::path> candidates = {binary_dir / "../share/slmquant/data"};
  std::filesystem::path dir = binary_dir;
  for (int up = 0; up < 3 && !dir.empty(); ++up, dir = dir.parent_path())
    candidates.push_back(dir / kDefaultDataDir);
  for (const auto& c : candidates)
    if (std::filesystem::is_directory(c, ec)) return c.lexically_normal();
  return std::nullopt;
}

void throw_data_error(const std::filesystem::path& file, size_t line, const std::string& what) {
  std::string where = file.string();
  if (line > 0) where += ":" + std::to_string(line);
  throw DataError(where + ": " + escape_message(what));
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_data_error(path, 0, "cannot open file (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw_data_error(path, 0, "read failed");
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (true) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(pos));
      return lines;
    }
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

std::vector<JsonRow> read_jsonl(const std::filesystem::path& path) {
  const auto lines = split_lines(read_text_file(path));
  std::vector<JsonRow> rows;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      rows.push_back({nlohmann::json::parse(lines[i]), i + 1});
    } catch (const nlohmann::json::exception& e) {
      throw_data_error(path, i + 1, std::string("invalid JSON: ") + e.what());
    }
    if (!rows.back().value.is_object()) throw_data_error(path, i + 1, "expected a JSON object");
  }
  return rows;
}

namespace {

// Every record of an RFC 4180 file, the header included.
std::vector<CsvRow> csv_records(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  std::vector<CsvRow> records;
  CsvRow current{{}, 1};
  std::string field;
  bool in_quotes = false, field_started = false;
  size_t line = 1;
  auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(current));
    current = CsvRow{{}, line};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started && field.empty()) {
      in_quotes = field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) throw_data_error(path, current.line, "unterminated quoted field");
  if (!field.empty() || !current.fields.empty()) end_record();
  if (records.empty()) throw_data_error(path, 0, "empty CSV file");
  return records;
}

std::vector<CsvRow> body_rows(const std::filesystem::path& path, std::vector<CsvRow>& records,
                              const std::vector<std::string>& expected_header) {
  std::vector<CsvRow> rows;
  for (size_t i = 1; i < records.size(); ++i) {
    if (records[i].fields.size() != expected_header.size()) {
      throw_data_error(path, records[i].line,
                       "expected " + std::to_string(expected_header.size()) + " fields, found " +
                           std::to_string(records[i].fields.size()));
    }
    rows.push_back(std::move(records[i]));
  }
  return rows;
}

}  // namespace

std::vector<CsvRow> read_csv(const std::filesystem::path& path,
                             const std::vector<std::string>& expected_header) {
  auto records = csv_records(path);
  if (records.front().fields != expected_header) throw_data_error(path, 1, "unexpected CSV header");
  return body_rows(path, records, expected_header);
}

CsvTable read_csv_table(const std::filesystem::path& path) {
  auto records = csv_records(path);
  CsvTable table;
  table.header = records.front().fields;
  table.rows = body_rows(path, records, table.header);
  return table;
}

std::string json_string(const nlohmann::json& row, const char* key,
                        const std::filesystem::path& file, size_t line) {
  const auto it = row.find(key);
  if (it == row.end() || !it->is_string())
    throw_data_error(file, line, std::string("missing string field '") + key + "'");
  return it->get<std::string>();
}

int64_t json_int(const nlohmann::json& row, const char* key, const std::filesystem::path& file,
                 size_t line) {
  const auto it = row.find(key);
  if (it != row.end() && it->is_number_integer()) return it->get<int64_t>();
  // HF exports some labels as digit strings (hellaswag "label": "3").
  if (it != row.end() && it->is_string()) {
    const std::string s = it->get<std::string>();
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
  }
  throw_data_error(file, line, std::string("missing integer field '") + key + "'");
}

std::vector<std::string> json_string_list(const nlohmann::json& row, const char* key,
                                          const std::filesystem::path& file, size_t line) {
  const auto it = row.find(key);
  if (it == row.end() || !it->is_array())
    throw_data_error(file, line, std::string("missing list field '") + key + "'");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string())
      throw_data_error(file, line, std::string("non-string entry in '") + key + "'");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace slmq::data
