#include "slmq/export/atomic_folder.h"

#include <system_error>

#include "slmq/core/error.h"

namespace slmq {

AtomicFolder::AtomicFolder(std::filesystem::path out)
    : out_(std::move(out)), tmp_(out_.string() + ".tmp") {
  if (std::filesystem::exists(out_) && !std::filesystem::is_empty(out_)) {
    throw DataError("output folder '" + out_.string() + "' exists and is not empty");
  }
  std::filesystem::remove_all(tmp_);
  std::filesystem::create_directories(tmp_);
}

AtomicFolder::~AtomicFolder() {
  if (committed_) return;
  std::error_code ignored;
  std::filesystem::remove_all(tmp_, ignored);
}

void AtomicFolder::commit() {
  std::filesystem::remove(out_);  // an empty folder may stand in the way of the rename
  std::filesystem::rename(tmp_, out_);
  committed_ = true;
}

}  // namespace slmq
