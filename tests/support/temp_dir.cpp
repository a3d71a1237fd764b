#include "support/temp_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <stdexcept>

namespace slmq::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "slmq-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path reference_dir(const std::string& name) {
  const char* root = std::getenv("SLMQ_REFERENCE_DIR");
  std::filesystem::path base =
      root ? root : std::filesystem::path(SLMQ_SOURCE_DIR) / "reference-data";
  auto dir = base / name;
  if (!std::filesystem::exists(dir)) {
    throw std::runtime_error(
        "reference data '" + dir.string() +
        "' is missing: run scripts/test.sh, which generates it (scripts/test.sh --slow for "
        "the data of slow tests)");
  }
  return dir;
}

std::string data_dir() {
  const char* env = std::getenv("SLMQ_DATA_DIR");
  return env ? env : (std::filesystem::path(SLMQ_SOURCE_DIR) / "assets" / "data").string();
}

}  // namespace slmq::test
