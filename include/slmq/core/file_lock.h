#pragma once
// One writer per output: an exclusive, non-blocking flock(2) on a lock file, held while the object
// lives and released by the kernel when the process dies (kill -9 included), so a stale lock never
// blocks the next run. The lock file itself is left in place: removing it would let a third
// process lock a new inode while the second still holds the old one.
#include <filesystem>
#include <string>

namespace slmq {

class FileLock {
 public:
  // Locks `lock_path` (created if absent). Throws DataError naming `what` and the lock file when
  // another process holds it, or when it cannot be created.
  FileLock(std::filesystem::path lock_path, const std::string& what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// The hidden lock file beside an output file: DIR/.NAME.lock.
std::filesystem::path lock_path_for(const std::filesystem::path& output);

}  // namespace slmq
