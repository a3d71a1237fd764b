#include "slmq/io/mapped_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "slmq/core/error.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

TEST(MappedFile, MapsContentAndMoves) {
  test::TempDir dir;
  const auto path = dir.path() / "f.bin";
  std::ofstream(path, std::ios::binary) << "hello";
  MappedFile a = MappedFile::open(path);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.data()), a.size()), "hello");
  EXPECT_EQ(a.path(), path);
  MappedFile b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.bytes().size(), 5u);
  EXPECT_EQ(b.bytes()[4], 'o');
}

TEST(MappedFile, EmptyFileMapsToNothing) {
  test::TempDir dir;
  std::ofstream(dir.path() / "empty");
  const MappedFile f = MappedFile::open(dir.path() / "empty");
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.data(), nullptr);
}

TEST(MappedFile, ErrorsNameThePath) {
  test::TempDir dir;
  for (const auto& p : {dir.path() / "missing.bin", dir.path()}) {
    try {
      MappedFile::open(p);
      ADD_FAILURE() << p;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace slmq::io
