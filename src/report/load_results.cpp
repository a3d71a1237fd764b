#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "slmq/core/error.h"
#include "slmq/core/logging.h"
#include "slmq/report/analysis.h"

namespace slmq::report {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> json_files(const fs::path& input) {
  std::vector<fs::path> out;
  if (fs::is_regular_file(input)) return {input};
  if (!fs::is_directory(input))
    throw ConfigError(fmt::format("report input '{}' does not exist", input.string()));
  for (const auto& entry : fs::recursive_directory_iterator(input)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_previous_summary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = nlohmann::json::parse(ss.str(), nullptr, false);
  return doc.is_object() && doc.value("schema", "") == "slmquant.summary";
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

std::vector<score::RunRecord> load_results(const std::vector<fs::path>& inputs,
                                           std::vector<InputFile>* files) {
  std::vector<score::RunRecord> records;
  std::map<std::string, std::string> seen;  // identity -> first path
  for (const auto& input : inputs) {
    for (const auto& path : json_files(input)) {
      if (is_previous_summary(path)) continue;
      InputFile file{path.string(), "used", ""};
      try {
        score::RunRecord rec = score::load_run_record(path);
        std::string identity = !rec.config_hash.empty() ? "config_hash " + rec.config_hash
                               : !rec.run_id.empty()    ? "run_id " + rec.run_id
                                                        : "";
        if (!identity.empty() && seen.count(identity)) {
          file.status = "duplicate";
          file.reason = fmt::format("same {} as {}; kept the first", identity, seen[identity]);
        } else {
          if (!identity.empty()) seen[identity] = path.string();
          if (!rec.unknown_keys.empty())
            file.reason = "unknown keys ignored: " + join(rec.unknown_keys, ", ");
          records.push_back(std::move(rec));
        }
      } catch (const DataError& e) {
        file.status = "skipped";
        file.reason = e.what();
      }
      if (file.status == "skipped") {
        spdlog::warn("skipped {}", file.reason);
      } else if (!file.reason.empty()) {
        spdlog::warn("{}{}: {}", file.status == "duplicate" ? "skipped duplicate " : "", file.path,
                     file.reason);
      }
      files->push_back(std::move(file));
    }
  }
  return records;
}

}  // namespace slmq::report
