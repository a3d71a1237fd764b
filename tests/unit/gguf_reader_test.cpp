// GGUF reader validation on hand-built files: each test breaks one rule and expects a typed
// error naming the file and the key or tensor, never a crash or a huge allocation.
#include <gtest/gtest.h>

#include <fstream>

#include "slmq/core/error.h"
#include "slmq/io/gguf_file.h"
#include "support/gguf_builder.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

using test::GgufBytes;
using test::GgufSpec;

class GgufReader : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& bytes) {
    auto path = dir_.path() / ("f" + std::to_string(n_++) + ".gguf");
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // Opens `bytes` expecting ErrorT whose message names the file and contains every fragment.
  template <typename ErrorT = DataError>
  void expect_error(const std::string& bytes, std::initializer_list<std::string> fragments) {
    auto path = write(bytes);
    try {
      GgufFile::open(path);
      FAIL() << "expected an error containing " << *fragments.begin();
    } catch (const ErrorT& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
      for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg;
    }
  }

  test::TempDir dir_;
  int n_ = 0;
};

TEST_F(GgufReader, DefaultSpecIsValid) {
  const auto file = GgufFile::open(write(GgufSpec().bytes()));
  EXPECT_EQ(file.get_string("test.str"), "abc");
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.dequantize(file.require_tensor("a"))[7], 4.5f);
  const auto b = file.dequantize(file.require_tensor("b"));
  ASSERT_EQ(b.size(), 64u);
  EXPECT_EQ(b[0], -16.0f);
  EXPECT_EQ(b[63], 16.0f);
  EXPECT_EQ(file.require_tensor("b").shape(), (std::vector<std::int64_t>{2, 32}));
}

TEST_F(GgufReader, EveryTruncationIsADataError) {
  const std::string full = GgufSpec().bytes();
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto path = write(full.substr(0, n));
    EXPECT_THROW(GgufFile::open(path), DataError) << "truncated to " << n << " bytes";
    std::filesystem::remove(path);
  }
}

TEST_F(GgufReader, TruncatedTensorDataNamesTheTensor) {
  const std::string full = GgufSpec().bytes();
  expect_error(full.substr(0, full.size() - 1), {"tensor 'b'", "outside the file"});
}

TEST_F(GgufReader, BadMagic) {
  GgufSpec spec;
  spec.magic = 0x46554746;
  expect_error(spec.bytes(), {"bad magic"});
}

TEST_F(GgufReader, Versions) {
  GgufSpec spec;
  spec.version = 1;
  expect_error<UnsupportedError>(spec.bytes(), {"version 1"});
  spec.version = 0x03000000;
  expect_error<UnsupportedError>(spec.bytes(), {"big-endian"});
  spec.version = 7;
  expect_error(spec.bytes(), {"unknown version 7"});
  spec.version = 2;
  EXPECT_EQ(GgufFile::open(write(spec.bytes())).version(), 2u);
}

TEST_F(GgufReader, TensorDataOutOfRange) {
  GgufSpec spec;
  spec.tensors[1].offset = 4096;
  expect_error(spec.bytes(), {"tensor 'b'", "outside the file"});
  spec.tensors[1].offset = ~0ull - 31;  // offset + size overflows
  expect_error(spec.bytes(), {"tensor 'b'", "outside the file"});
}

TEST_F(GgufReader, MisalignedTensorOffset) {
  GgufSpec spec;
  spec.tensors[1].offset = 40;
  expect_error(spec.bytes(), {"tensor 'b'", "alignment 32"});
}

TEST_F(GgufReader, AlignmentMustBeAPowerOfTwo) {
  GgufSpec spec;
  spec.kvs.emplace_back("general.alignment", test::gguf_u32(48));
  expect_error(spec.bytes(), {"general.alignment", "power of two"});
  spec.kvs.back().second = test::gguf_str("32");
  expect_error(spec.bytes(), {"general.alignment"});
  spec.kvs.back().second = GgufBytes().u32(11).u64(static_cast<std::uint64_t>(-64)).data();
  expect_error(spec.bytes(), {"general.alignment", "negative"});
  spec.kvs.back().second = GgufBytes().u32(10).u64(1ull << 40).data();
  expect_error(spec.bytes(), {"general.alignment", "power of two"});
}

TEST_F(GgufReader, CustomAlignmentMovesTheDataSection) {
  GgufSpec spec;
  spec.alignment = 256;
  spec.tensors[1].offset = 256;
  spec.data.insert(32, std::string(256 - 32, '\0'));
  spec.kvs.emplace_back("general.alignment", test::gguf_u32(256));
  const auto file = GgufFile::open(write(spec.bytes()));
  EXPECT_EQ(file.alignment(), 256u);
  EXPECT_EQ(file.data_offset() % 256, 0u);
  EXPECT_EQ(file.dequantize(file.require_tensor("b"))[0], -16.0f);
}

TEST_F(GgufReader, UnknownTensorType) {
  GgufSpec spec;
  spec.tensors[1].type = 99;
  expect_error(spec.bytes(), {"tensor 'b'", "unknown ggml type 99"});
}

TEST_F(GgufReader, KnownTypeWithoutDequantizerIsUnsupported) {
  GgufSpec spec;
  spec.tensors[1] = {"iq", {256}, 16, 32};  // IQ2_XXS: one 66-byte block
  spec.data.resize(32 + 66);
  const auto file = GgufFile::open(write(spec.bytes()));
  try {
    file.dequantize(file.require_tensor("iq"));
    FAIL();
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'iq'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("IQ2_XXS"), std::string::npos) << e.what();
  }
}

TEST_F(GgufReader, StringLengthPastTheEnd) {
  GgufSpec spec;
  spec.kvs[1].second = GgufBytes().u32(8).u64(1ull << 40).data();
  expect_error(spec.bytes(), {"metadata key 'test.str'", "string length"});
  spec = GgufSpec();
  spec.kvs.emplace(spec.kvs.begin(), std::string(3, 'k'), test::gguf_u32(1));
  std::string bytes = spec.bytes();
  // The first key's length field sits right after the 24-byte header.
  const std::uint64_t huge = 1ull << 50;
  std::memcpy(bytes.data() + 24, &huge, 8);
  expect_error(bytes, {"metadata entry 0", "key length"});
}

TEST_F(GgufReader, TensorNameLengthPastTheEnd) {
  GgufSpec spec;
  spec.tensors[0].name = "aaaa";
  std::string bytes = spec.bytes();
  const std::string needle = GgufBytes().u64(4).data() + "aaaa";
  const auto at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  const std::uint64_t huge = 1ull << 33;
  std::memcpy(bytes.data() + at, &huge, 8);
  expect_error(bytes, {"tensor info 0", "name length"});
}

TEST_F(GgufReader, ShapeAndSizeRules) {
  GgufSpec spec;
  spec.tensors[1].dims = {16, 4};  // Q8_0 rows must hold whole 32-element blocks
  expect_error(spec.bytes(), {"tensor 'b'", "block size 32"});
  spec = GgufSpec();
  spec.tensors[0].dims = {};
  expect_error(spec.bytes(), {"tensor 'a'", "0 dimensions"});
  spec.tensors[0].dims = {1, 1, 1, 1, 8};
  expect_error(spec.bytes(), {"tensor 'a'", "5 dimensions"});
  spec.tensors[0].dims = {0};
  expect_error(spec.bytes(), {"tensor 'a'", "dimension 0 is 0"});
  spec.tensors[0].dims = {1ull << 32, 1ull << 32};
  expect_error(spec.bytes(), {"tensor 'a'", "overflows"});
}

TEST_F(GgufReader, OverlappingTensors) {
  GgufSpec spec;
  spec.tensors[0].dims = {16};  // 64 bytes from offset 0 run into "b" at 32
  expect_error(spec.bytes(), {"tensor 'b'", "overlaps tensor 'a'"});
}

TEST_F(GgufReader, DuplicatesAreRejected) {
  GgufSpec spec;
  spec.kvs.emplace_back("test.str", test::gguf_str("again"));
  expect_error(spec.bytes(), {"metadata key 'test.str'", "duplicate key"});
  spec = GgufSpec();
  spec.tensors[1].name = "a";
  expect_error(spec.bytes(), {"tensor 'a'", "duplicate tensor name"});
}

TEST_F(GgufReader, BadValueTypesAndArrays) {
  GgufSpec spec;
  spec.kvs[1].second = GgufBytes().u32(13).u32(0).data();
  expect_error(spec.bytes(), {"metadata key 'test.str'", "unknown value type 13"});
  spec.kvs[1].second = GgufBytes().u32(9).u32(4).u64(1ull << 62).data();
  expect_error(spec.bytes(), {"metadata key 'test.str'", "array length"});
  spec.kvs[1].second = GgufBytes().u32(9).u32(42).u64(1).data();
  expect_error(spec.bytes(), {"metadata key 'test.str'", "unknown value type 42"});
  spec.kvs[1].second = GgufBytes().u32(7).u8(2).data();
  expect_error(spec.bytes(), {"metadata key 'test.str'", "bool byte 2"});
  GgufBytes deep;
  deep.u32(9);
  for (int i = 0; i < 9; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  spec.kvs[1].second = deep.data();
  expect_error(spec.bytes(), {"metadata key 'test.str'", "nested deeper"});
}

TEST_F(GgufReader, HugeCountsFailBeforeAllocating) {
  GgufSpec spec;
  std::string bytes = spec.bytes();
  const std::uint64_t huge = 1ull << 60;
  std::memcpy(bytes.data() + 8, &huge, 8);
  expect_error(bytes, {"header", "tensor count"});
  bytes = spec.bytes();
  std::memcpy(bytes.data() + 16, &huge, 8);
  expect_error(bytes, {"header", "metadata count"});
}

TEST_F(GgufReader, EmptyAndNestedArraysParse) {
  GgufSpec spec;
  spec.kvs.emplace_back("empty", GgufBytes().u32(9).u32(8).u64(0).data());
  spec.kvs.emplace_back("nested",
                        GgufBytes().u32(9).u32(9).u64(2).u32(5).u64(1).u32(7).u32(4).u64(0).data());
  const auto file = GgufFile::open(write(spec.bytes()));
  EXPECT_TRUE(file.require("empty").as_array().empty());
  EXPECT_EQ(file.require("empty").element_type(), GgufValueType::kString);
  const auto& nested = file.require("nested").as_array();
  ASSERT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested[0].as_array()[0].as_int(), 7);
  EXPECT_EQ(nested[1].element_type(), GgufValueType::kUint32);
}

TEST_F(GgufReader, TypedGettersNameTheKey) {
  const auto file = GgufFile::open(write(GgufSpec().bytes()));
  try {
    file.get_uint("test.str");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("metadata key 'test.str'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("found string"), std::string::npos) << e.what();
  }
  EXPECT_THROW(file.get_string("no.such.key"), DataError);
  EXPECT_FALSE(file.find_uint("no.such.key").has_value());
  EXPECT_THROW(file.require_tensor("zzz"), DataError);
}

TEST_F(GgufReader, MissingFileAndDirectory) {
  EXPECT_THROW(GgufFile::open(dir_.path() / "absent.gguf"), DataError);
  EXPECT_THROW(GgufFile::open(dir_.path()), DataError);
}

}  // namespace
}  // namespace slmq::io
