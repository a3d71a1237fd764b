#pragma once
// Results are never half-written: content goes to a temporary file in the same directory, is
// flushed, then renamed over the destination. Errors throw DataError naming the destination.
#include <filesystem>
#include <string>
#include <string_view>

namespace slmq {

// Streams a large file; nothing appears at `path` until commit(). Destroying an uncommitted
// writer removes the temporary file.
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

}  // namespace slmq
