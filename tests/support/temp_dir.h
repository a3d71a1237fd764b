#pragma once
// A fresh directory under the system temp dir, removed with everything in it at scope exit.
#include <filesystem>
#include <string>

namespace slmq::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// SLMQ_REFERENCE_DIR/<name>, or empty when the reference data is absent (tests then fail loudly:
// scripts/test.sh always generates it).
std::filesystem::path reference_dir(const std::string& name);

// The evaluation data folder the CLI tests pass as --data-dir: SLMQ_DATA_DIR, else the source
// tree's assets/data.
std::string data_dir();

}  // namespace slmq::test
