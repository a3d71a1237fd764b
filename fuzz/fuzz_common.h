#pragma once
// Shared by the fuzz targets. The contract every target checks: a reader given any bytes either
// succeeds or throws one of the typed errors meant for users (ConfigError, DataError,
// UnsupportedError). Anything else (a crash, a sanitizer report, InternalError, a std:: or
// nlohmann exception, an allocation libFuzzer's -rss_limit_mb/-malloc_limit_mb refuses) is a
// finding: the exception escapes LLVMFuzzerTestOneInput and aborts the run with the input saved.
#include <spdlog/spdlog.h>
#include <unistd.h>

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

// A scratch folder of this process (readers that take paths read the input from files in it):
// $SLMQ_FUZZ_TMP, else /dev/shm, else the system temp folder.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base;
    if (const char* env = std::getenv("SLMQ_FUZZ_TMP")) {
      base = env;
    } else if (std::filesystem::is_directory("/dev/shm")) {
      base = "/dev/shm";
    } else {
      base = std::filesystem::temp_directory_path();
    }
    auto d = base / ("slmq-fuzz-" + std::to_string(::getpid()));
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
