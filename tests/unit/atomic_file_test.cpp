#include "slmq/core/atomic_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "slmq/core/error.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AtomicFile, WritesCreatesParentsAndReplaces) {
  test::TempDir dir;
  auto path = dir.path() / "a" / "b" / "result.json";
  write_file_atomically(path, "first");
  EXPECT_EQ(read_all(path), "first");
  write_file_atomically(path, "second");
  EXPECT_EQ(read_all(path), "second");
  // No temporary files are left beside the result.
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(path.parent_path()))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, UnwritableDirectoryNamesThePath) {
  test::TempDir dir;
  auto blocker = dir.path() / "file";
  write_file_atomically(blocker, "x");
  // A regular file where a directory is needed cannot be written through.
  try {
    write_file_atomically(blocker / "result.json", "y");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace slmq
