#pragma once
// A checkpoint folder that appears whole or not at all: files are written into `out`.tmp, which
// commit() renames to `out`. Destroying an uncommitted folder removes the temporary one.
#include <filesystem>

namespace slmq {

class AtomicFolder {
 public:
  // Throws DataError when `out` exists and is not empty.
  explicit AtomicFolder(std::filesystem::path out);
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  // Where to write the files until commit().
  const std::filesystem::path& path() const { return tmp_; }
  void commit();

 private:
  std::filesystem::path out_, tmp_;
  bool committed_ = false;
};

}  // namespace slmq
