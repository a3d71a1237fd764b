// Corrupted copies of a small file written by the reference package: each defect must give a
// DataError that names the file (and the tensor where there is one), never a crash.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <sstream>

#include "slmq/core/error.h"
#include "slmq/io/safetensors.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

struct Parts {
  nlohmann::json header;
  std::string data;
};

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Parts split(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  return {nlohmann::json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
}

std::string length_prefix(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

std::string join(const std::string& header, const std::string& data) {
  return length_prefix(header.size()) + header + data;
}

class SafetensorsCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = read_bytes(test::reference_dir("safetensors_dtypes") / "small_model.safetensors");
  }

  // Writes `bytes` to a file and expects opening it to fail naming the file and `needle`.
  void expect_data_error(const std::string& bytes, const std::string& needle) {
    auto path = dir_.path() / "corrupt.safetensors";
    std::ofstream(path, std::ios::binary) << bytes;
    try {
      SafetensorsFile::open(path);
      FAIL() << "no error for a file that should contain: " << needle;
    } catch (const DataError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  }

  std::string with_header(const std::function<void(nlohmann::json&)>& edit) const {
    Parts p = split(original_);
    edit(p.header);
    return join(p.header.dump(), p.data);
  }

  test::TempDir dir_;
  std::string original_;
};

TEST_F(SafetensorsCorruption, OriginalIsValid) {
  auto path = dir_.path() / "ok.safetensors";
  std::ofstream(path, std::ios::binary) << original_;
  EXPECT_EQ(SafetensorsFile::open(path).tensors().size(), 3u);
}

TEST_F(SafetensorsCorruption, TruncatedFile) {
  expect_data_error(original_.substr(0, original_.size() - 10), "lie outside the data section");
  expect_data_error(original_.substr(0, 5), "shorter than the 8-byte header length");
}

TEST_F(SafetensorsCorruption, HeaderLengthPastEndOfFile) {
  std::string bytes = original_;
  bytes.replace(0, 8, length_prefix(original_.size() + 100));
  expect_data_error(bytes, "runs past the end of the file");
}

TEST_F(SafetensorsCorruption, MalformedJson) {
  Parts p = split(original_);
  std::string header = p.header.dump();
  header[header.size() / 2] = '{';
  expect_data_error(join(header, p.data), "not valid JSON");
  expect_data_error(join("[1, 2]", ""), "not a JSON object");
}

TEST_F(SafetensorsCorruption, OverlappingOffsets) {
  expect_data_error(with_header([](nlohmann::json& h) {
                      // b.weight (8 floats) now starts inside a.weight's range.
                      auto begin = h["b.weight"]["data_offsets"][0].get<uint64_t>();
                      h["b.weight"]["data_offsets"] = {begin - 8, begin + 24};
                    }),
                    "overlaps");
}

TEST_F(SafetensorsCorruption, ShapeDoesNotMatchByteRange) {
  expect_data_error(with_header([](nlohmann::json& h) {
                      h["a.weight"]["shape"] = {4, 7};
                    }),
                    "tensor 'a.weight': byte range");
}

TEST_F(SafetensorsCorruption, OffsetsOutsideTheDataSection) {
  expect_data_error(with_header([](nlohmann::json& h) {
                      h["c.bias"]["data_offsets"] = {100000, 100024};
                    }),
                    "tensor 'c.bias': data_offsets");
}

TEST_F(SafetensorsCorruption, UnknownDtypeAndBadFields) {
  expect_data_error(with_header([](nlohmann::json& h) { h["a.weight"]["dtype"] = "F31"; }),
                    "unknown dtype 'F31'");
  expect_data_error(with_header([](nlohmann::json& h) {
                      h["a.weight"]["shape"] = {-4, 6};
                    }),
                    "non-negative");
  expect_data_error(with_header([](nlohmann::json& h) { h["a.weight"].erase("data_offsets"); }),
                    "missing 'data_offsets'");
}

// Found reviewing the header parser for the safetensors fuzz target: a zero elsewhere in the shape
// let any size through the byte-size check, and one past 2^63 - 1 became a negative torch size
// (load() then failed inside at::empty with an untyped c10::Error).
TEST_F(SafetensorsCorruption, ShapeEntryBeyondTorchSizesWithAZeroDimension) {
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[0,9223372036854775809],"data_offsets":[0,0]},)"
      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  expect_data_error(join(header, std::string(4, '\0')),
                    "tensor 'a': shape entry 9223372036854775809 exceeds 2^63 - 1");
  // The largest torch size with a zero beside it is an empty tensor, as in the reference.
  const std::string ok =
      R"({"a":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}})";
  auto path = dir_.path() / "empty.safetensors";
  std::ofstream(path, std::ios::binary) << join(ok, "");
  EXPECT_EQ(SafetensorsFile::open(path).find("a")->shape[1], INT64_MAX);
}

}  // namespace
}  // namespace slmq
