#include "slmq/export/atomic_folder.h"

#include <system_error>

#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"

namespace slmq {
namespace {

// DIR/.NAME.tmp beside DIR/NAME: hidden, so that a killed export leaves nothing that looks like a
// checkpoint; the next export of NAME removes it.
std::filesystem::path hidden_temporary(const std::filesystem::path& out) {
  const std::filesystem::path p = out.has_filename() ? out : out.parent_path();  // "dir/"
  return p.parent_path() / ("." + p.filename().string() + ".tmp");
}

}  // namespace

AtomicFolder::AtomicFolder(std::filesystem::path out)
    : out_(std::move(out)),
      tmp_(hidden_temporary(out_)),
      lock_(lock_path_for(out_), "the checkpoint folder '" + out_.string() + "'") {
  if (std::filesystem::exists(out_) && !std::filesystem::is_empty(out_)) {
    throw DataError("output folder '" + out_.string() + "' exists and is not empty");
  }
  std::filesystem::remove_all(tmp_);
  make_directories(tmp_);
}

AtomicFolder::~AtomicFolder() {
  if (committed_) return;
  std::error_code ignored;
  std::filesystem::remove_all(tmp_, ignored);
}

void AtomicFolder::commit() {
  fault_point("export");
  std::filesystem::remove(out_);  // an empty folder may stand in the way of the rename
  std::filesystem::rename(tmp_, out_);
  committed_ = true;
}

}  // namespace slmq
