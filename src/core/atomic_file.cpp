#include "slmq/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"

namespace slmq {

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path) : path_(std::move(path)) {
  std::error_code ec;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
  // Hidden, and named after its destination, so that one left by a killed process is neither
  // mistaken for a result nor hard to find (remove_stale_temporaries).
  tmp_ = (path_.parent_path() / ("." + path_.filename().string() + ".tmp.XXXXXX")).string();
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) fail("cannot create a temporary file");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFileWriter::fail(const char* what) {
  int err = errno;
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
    fd_ = -1;
  }
  throw DataError("cannot write '" + path_.string() + "': " + what + ": " + std::strerror(err));
}

void AtomicFileWriter::write(std::string_view bytes) {
  if (fd_ < 0) throw InternalError("write after commit to '" + path_.string() + "'");
  while (!bytes.empty()) {
    ssize_t n = injected_disk_full(path_) ? -1 : ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw InternalError("double commit of '" + path_.string() + "'");
  // mkstemp creates 0600; results are ordinary files.
  ::fchmod(fd_, 0644);
  if (::fsync(fd_) != 0) fail("fsync");
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(tmp_.c_str());
    throw DataError("cannot write '" + path_.string() + "': close: " + std::strerror(errno));
  }
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    throw DataError("cannot write '" + path_.string() + "': rename: " + std::strerror(err));
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  AtomicFileWriter writer(path);
  writer.write(content);
  writer.commit();
}

void remove_stale_temporaries(const std::filesystem::path& path) {
  const std::string prefix = "." + path.filename().string() + ".tmp.";
  std::error_code ec;
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0)
      std::filesystem::remove(entry.path(), ec);
  }
}

void make_directories(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw DataError("cannot create the directory '" + dir.string() + "': " + ec.message());
}

}  // namespace slmq
