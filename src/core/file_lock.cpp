#include "slmq/core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slmq/core/error.h"

namespace slmq {

FileLock::FileLock(std::filesystem::path lock_path, const std::string& what)
    : path_(std::move(lock_path)) {
  std::error_code ec;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw DataError("cannot create the lock file '" + path_.string() + "' for " + what + ": " +
                    std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw DataError(what + " is being written by another slmquant process (lock '" +
                      path_.string() + "'); wait for it to finish or use another output folder");
    throw DataError("cannot lock '" + path_.string() + "': " + std::strerror(err));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::filesystem::path lock_path_for(const std::filesystem::path& output) {
  const std::filesystem::path p = output.has_filename() ? output : output.parent_path();  // "dir/"
  return p.parent_path() / ("." + p.filename().string() + ".lock");
}

}  // namespace slmq
