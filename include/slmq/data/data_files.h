#pragma once
// Readers for the benchmark file layouts. Every failure is a DataError naming the file and, where
// there is one, the 1-based line ("data error: assets/data/arc/x.jsonl:17: ...").
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slmq::data {

inline constexpr const char* kDefaultDataDir = "assets/data";

// The data directory: `explicit_dir` when non-empty (config or CLI), else $SLMQ_DATA_DIR, else
// ./assets/data when it exists, else the one found beside the running binary (data_dir_near),
// else "assets/data" (so that errors name it). Any working directory finds the checkout's data.
std::filesystem::path resolve_data_dir(const std::filesystem::path& explicit_dir = {});
// The data folder of a binary in `binary_dir`: ../share/slmquant/data (installed), or
// assets/data in it or up to two folders above (a build tree inside the checkout); nullopt when
// none exists.
std::optional<std::filesystem::path> data_dir_near(const std::filesystem::path& binary_dir);

// Throws DataError "<file>: <what>" or "<file>:<line>: <what>" (line 0 = no line).
[[noreturn]] void throw_data_error(const std::filesystem::path& file, size_t line,
                                   const std::string& what);

// Whole file as bytes; DataError when missing or unreadable.
std::string read_text_file(const std::filesystem::path& path);

// One JSON value per non-blank line, with the line number each came from.
struct JsonRow {
  nlohmann::json value;
  size_t line;
};
std::vector<JsonRow> read_jsonl(const std::filesystem::path& path);

// RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). The first record is the
// header and must equal `expected_header`; every record must have its width.
struct CsvRow {
  std::vector<std::string> fields;
  size_t line;  // line the record starts on
};
std::vector<CsvRow> read_csv(const std::filesystem::path& path,
                             const std::vector<std::string>& expected_header);
// The same for any header: the first record names the columns.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
};
CsvTable read_csv_table(const std::filesystem::path& path);

// Lines split on "\n" exactly as Python's str.split("\n") (a trailing newline gives a final "").
std::vector<std::string> split_lines(const std::string& text);

// Typed field access on a JSON object row; DataError naming file, line and key.
std::string json_string(const nlohmann::json& row, const char* key,
                        const std::filesystem::path& file, size_t line);
int64_t json_int(const nlohmann::json& row, const char* key, const std::filesystem::path& file,
                 size_t line);
std::vector<std::string> json_string_list(const nlohmann::json& row, const char* key,
                                          const std::filesystem::path& file, size_t line);

}  // namespace slmq::data
