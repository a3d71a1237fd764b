#include "slmq/eval/eval_journal.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"

namespace slmq::eval {
namespace {

constexpr const char* kFormatKey = "slmquant_eval_journal";

// A batch line's (section, index, value) triples, or false when the line is not one.
bool parse_batch(const std::string& line, std::string& section, double& seconds,
                 std::vector<std::pair<size_t, nlohmann::json>>& units) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("section") || !j["section"].is_string() ||
      !j.contains("seconds") || !j["seconds"].is_number() || !j.contains("units") ||
      !j["units"].is_array())
    return false;
  section = j["section"].get<std::string>();
  seconds = j["seconds"].get<double>();
  units.clear();
  for (auto& unit : j["units"]) {
    if (!unit.is_array() || unit.size() != 2 || !unit[0].is_number_unsigned()) return false;
    units.emplace_back(unit[0].get<size_t>(), std::move(unit[1]));
  }
  return true;
}

}  // namespace

nlohmann::json text_to_journal(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();  // throws on invalid UTF-8
    return text;
  } catch (const nlohmann::json::type_error&) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char ch : text) {
      hex += kDigits[ch >> 4];
      hex += kDigits[ch & 15];
    }
    return {{"hex", hex}};
  }
}

std::optional<std::string> text_from_journal(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_object() || !value.contains("hex") || !value["hex"].is_string())
    return std::nullopt;
  const std::string hex = value["hex"].get<std::string>();
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string text;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const std::string byte = hex.substr(i, 2);
    if (byte.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    text += static_cast<char>(std::stoi(byte, nullptr, 16));
  }
  return text;
}

FileEvalJournal::FileEvalJournal(std::filesystem::path path, std::string fingerprint, bool resume)
    : path_(std::move(path)) {
  if (path_.has_parent_path()) make_directories(path_.parent_path());
  const std::string lock = path_.string() + ".lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw DataError("cannot open '" + lock + "': " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw DataError("'" + path_.string() +
                    "' is in use by another evaluation of the same task into the same folder");
  }
  std::vector<std::string> kept;  // the batch lines reused
  if (resume) load(fingerprint, kept);
  rewrite(fingerprint, kept);
}

FileEvalJournal::~FileEvalJournal() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

void FileEvalJournal::load(const std::string& fingerprint, std::vector<std::string>& kept) {
  std::ifstream in(path_);
  std::string line;
  if (!in || !std::getline(in, line)) return;
  nlohmann::json header = nlohmann::json::parse(line, nullptr, false);
  if (!header.is_object() || !header.contains(kFormatKey) ||
      header.value("fingerprint", "") != fingerprint) {
    spdlog::warn("{}: written for other requests, model or settings; starting afresh",
                 path_.string());
    return;
  }
  std::string section;
  double seconds = 0;
  std::vector<std::pair<size_t, nlohmann::json>> units;
  for (size_t number = 2; std::getline(in, line); ++number) {
    if (!parse_batch(line, section, seconds, units)) {
      spdlog::warn(
          "{}:{}: unreadable batch record (interrupted write?); it and later lines are "
          "recomputed",
          path_.string(), number);
      break;
    }
    for (auto& [index, value] : units) units_[{section, index}] = std::move(value);
    resumed_units_ += units.size();
    resumed_seconds_ += seconds;
    kept.push_back(line);
  }
}

void FileEvalJournal::rewrite(const std::string& fingerprint,
                              const std::vector<std::string>& lines) {
  std::string content = nlohmann::json{{kFormatKey, 1}, {"fingerprint", fingerprint}}.dump() + "\n";
  for (const auto& line : lines) content += line + "\n";
  write_file_atomically(path_, content);
  out_.open(path_, std::ios::app);
  if (!out_) throw DataError("cannot append to '" + path_.string() + "'");
}

const nlohmann::json* FileEvalJournal::find(const std::string& section, size_t index) const {
  auto it = units_.find({section, index});
  return it == units_.end() ? nullptr : &it->second;
}

void FileEvalJournal::record(const std::string& section,
                             const std::vector<std::pair<size_t, nlohmann::json>>& units,
                             double seconds) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [index, value] : units) {
    list.push_back({index, value});
    units_[{section, index}] = value;
  }
  const nlohmann::json line = {{"section", section}, {"seconds", seconds}, {"units", list}};
  if (injected_disk_full(path_)) out_.setstate(std::ios::badbit);
  out_ << line.dump() << '\n';
  out_.flush();
  if (!out_) throw DataError("cannot append to '" + path_.string() + "': " + std::strerror(errno));
}

}  // namespace slmq::eval
