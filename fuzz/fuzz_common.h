#pragma once
// Shared by the fuzz targets. The contract every target checks: a reader given any bytes either
// succeeds or throws one of the typed errors meant for users (ConfigError, DataError,
// UnsupportedError). Anything else (a crash, a sanitizer report, InternalError, a std:: or
// nlohmann exception, an allocation libFuzzer's -rss_limit_mb/-malloc_limit_mb refuses) is a
// finding: the exception escapes LLVMFuzzerTestOneInput and aborts the run with the input saved.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include "slmq/core/error.h"

namespace slmq::fuzz {

// Runs `body`, swallowing only the user-facing errors.
template <typename F>
int guarded(F&& body) {
  try {
    body();
  } catch (const ConfigError&) {
  } catch (const DataError&) {
  } catch (const UnsupportedError&) {
  }
  return 0;
}

// Removes the scratch folders (slmq-fuzz-PID) under `base` whose process is gone. A run that
// ends in a finding dies by abort or _exit (a crash, a sanitizer report, a timeout, an allocation
// over the limit) without running atexit, so its folder stays until the next target starts here.
// A folder whose PID runs (or belongs to another user: EPERM) is left alone.
inline void remove_dead_scratch_dirs(const std::filesystem::path& base) {
  std::error_code ec;
  std::filesystem::directory_iterator it(base, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    constexpr std::string_view kPrefix = "slmq-fuzz-";
    if (name.rfind(kPrefix, 0) != 0) continue;
    const std::string digits = name.substr(kPrefix.size());
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    std::filesystem::remove_all(it->path(), ignored);
  }
}

// Where scratch folders go: $SLMQ_FUZZ_TMP, else /dev/shm, else the system temp folder.
inline std::filesystem::path scratch_base() {
  if (const char* env = std::getenv("SLMQ_FUZZ_TMP")) return env;
  if (std::filesystem::is_directory("/dev/shm")) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// Every target, whether it writes files or not, clears dead processes' folders at start.
// static, not inline: an unused inline variable is never emitted, and its initializer never runs.
[[maybe_unused]] static const bool kDeadScratchRemoved =
    (remove_dead_scratch_dirs(scratch_base()), true);

// A scratch folder of this process (readers that take paths read the input from files in it):
// $SLMQ_FUZZ_SCRATCH as it is when set (the caller keeps it to one process: scripts/fuzz.sh's
// brief runs, whose paths, quoted in error messages, must not carry a PID that changes what the
// fuzzer sees), else slmq-fuzz-PID under scratch_base(). Removed at exit, and by the next target's
// start when a finding killed this process first (remove_dead_scratch_dirs).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* fixed = std::getenv("SLMQ_FUZZ_SCRATCH");
    auto d = fixed != nullptr && *fixed != '\0'
                 ? std::filesystem::path(fixed)
                 : scratch_base() / ("slmq-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    spdlog::set_level(spdlog::level::off);  // readers warn about skipped input; not a finding
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return dir;
}

// Writes `bytes` to `relative` under scratch_dir() and returns its path.
inline std::filesystem::path write_input(const std::filesystem::path& relative,
                                         std::string_view bytes) {
  const auto path = scratch_dir() / relative;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The bytes before the first NUL and those after it (empty when there is none): targets whose
// readers take two files (PIQA's questions and labels) split one input this way.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view bytes) {
  const auto nul = bytes.find('\0');
  if (nul == std::string_view::npos) return {bytes, {}};
  return {bytes.substr(0, nul), bytes.substr(nul + 1)};
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace slmq::fuzz
