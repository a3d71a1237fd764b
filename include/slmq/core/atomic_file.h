#pragma once
// Results are never half-written: content goes to a temporary file in the same directory, is
// flushed, then renamed over the destination. Errors throw DataError naming the destination.
#include <filesystem>
#include <string>
#include <string_view>

namespace slmq {

// Streams a large file; nothing appears at `path` until commit(). The temporary file is the hidden
// DIR/.NAME.tmp.XXXXXX; destroying an uncommitted writer removes it.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view bytes);
  void commit();

 private:
  [[noreturn]] void fail(const char* what);
  std::filesystem::path path_;
  std::string tmp_;
  int fd_ = -1;
};

void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Removes the temporary files a killed writer of `path` left (DIR/.NAME.tmp.*). Only for a caller
// that holds the output's lock (core/file_lock.h): another writer's live file would go too.
void remove_stale_temporaries(const std::filesystem::path& path);

// std::filesystem::create_directories, with failures (a file in the way, no permission, disk
// full) as a DataError naming the directory instead of a filesystem_error.
void make_directories(const std::filesystem::path& dir);

}  // namespace slmq
