#pragma once
// A checkpoint folder that appears whole or not at all: files are written into the hidden
// PARENT/.NAME.tmp, which commit() renames to `out`. Destroying an uncommitted folder removes the
// temporary one; one a killed process left is removed by the next export to `out`.
#include <filesystem>

#include "slmq/core/file_lock.h"

namespace slmq {

class AtomicFolder {
 public:
  // Throws DataError when `out` exists and is not empty, or when another process is writing it
  // (an exclusive lock on lock_path_for(out), held until destruction).
  explicit AtomicFolder(std::filesystem::path out);
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  // Where to write the files until commit().
  const std::filesystem::path& path() const { return tmp_; }
  void commit();

 private:
  std::filesystem::path out_, tmp_;
  FileLock lock_;
  bool committed_ = false;
};

}  // namespace slmq
