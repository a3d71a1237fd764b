// The GGUF reader and dequantizers against the PyPI `gguf` package on a file that package wrote
// (scripts/reference/gen_gguf_synthetic.py): metadata values and types, tensor infos, and fp32
// dequantization, which must be bit-identical (tolerance: none).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_file.h"
#include "slmq/io/json_file.h"
#include "support/reference_files.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

std::string upper_type_name(GgufValueType t) {
  std::string s(gguf_value_type_name(t));
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Compares a parsed value with the package's JSON rendering; floats exactly (JSON keeps doubles).
void expect_value(const GgufValue& v, const nlohmann::json& expected, const std::string& key) {
  switch (v.type()) {
    case GgufValueType::kArray: {
      ASSERT_TRUE(expected.is_array()) << key;
      ASSERT_EQ(v.as_array().size(), expected.size()) << key;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        expect_value(v.as_array()[i], expected[i], key + "[" + std::to_string(i) + "]");
      }
      return;
    }
    case GgufValueType::kString:
      EXPECT_EQ(v.as_string(), expected.get<std::string>()) << key;
      return;
    case GgufValueType::kBool:
      EXPECT_EQ(v.as_bool(), expected.get<bool>()) << key;
      return;
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64:
      EXPECT_EQ(v.as_double(), expected.get<double>()) << key;
      return;
    case GgufValueType::kUint64:
      EXPECT_EQ(v.as_uint(), expected.get<std::uint64_t>()) << key;
      return;
    default:
      EXPECT_EQ(v.as_int(), expected.get<std::int64_t>()) << key;
  }
}

class GgufSynthetic : public ::testing::Test {
 protected:
  std::filesystem::path dir_ = test::reference_dir("gguf_synthetic");
  GgufFile file_ = GgufFile::open(dir_ / "synthetic.gguf");
};

TEST_F(GgufSynthetic, MetadataMatchesThePackageReader) {
  const auto expected = slmq::read_json_file(dir_ / "metadata.json");
  EXPECT_EQ(file_.version(), 3u);
  EXPECT_EQ(file_.alignment(), 64u);
  ASSERT_EQ(file_.metadata().size(), expected.size());
  for (const auto& [key, value] : file_.metadata()) {
    ASSERT_TRUE(expected.contains(key)) << key;
    const auto& e = expected[key];
    EXPECT_EQ(upper_type_name(value.type()), e["types"][0].get<std::string>()) << key;
    if (value.type() == GgufValueType::kArray) {
      EXPECT_EQ(upper_type_name(value.element_type()), e["types"][1].get<std::string>()) << key;
    }
    expect_value(value, e["value"], key);
  }
  // The nested array keeps its inner element type.
  const auto& nested = file_.require("test.array_nested").as_array();
  EXPECT_EQ(nested[0].element_type(), GgufValueType::kInt32);
}

TEST_F(GgufSynthetic, TensorInfosMatchThePackageReader) {
  const auto expected = slmq::read_json_file(dir_ / "tensors.json");
  ASSERT_EQ(file_.tensors().size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& t = file_.tensors()[i];
    const auto& e = expected[i];
    EXPECT_EQ(t.name, e["name"].get<std::string>());
    EXPECT_EQ(ggml_traits(t.type).name, e["type"].get<std::string>()) << t.name;
    EXPECT_EQ(t.dims, e["dims"].get<std::vector<std::int64_t>>()) << t.name;
    EXPECT_EQ(t.offset, e["offset"].get<std::uint64_t>()) << t.name;
    EXPECT_EQ(t.n_bytes, e["n_bytes"].get<std::uint64_t>()) << t.name;
    EXPECT_EQ(t.offset % 64, 0u) << t.name;
  }
}

TEST_F(GgufSynthetic, EveryDequantizerIsBitExact) {
  std::set<std::string> types_seen;
  for (const auto& t : file_.tensors()) {
    const auto expected = test::read_f32(dir_ / (t.name + ".f32"));
    const auto actual = file_.dequantize(t);
    ASSERT_EQ(actual.size(), expected.size()) << t.name;
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < actual.size(); ++i) {
      if (std::memcmp(&actual[i], &expected[i], 4) != 0 && mismatches++ < 3) {
        ADD_FAILURE() << t.name << "[" << i << "]: " << actual[i] << " vs gguf " << expected[i];
      }
    }
    EXPECT_EQ(mismatches, 0u) << t.name;
    types_seen.insert(std::string(ggml_traits(t.type).name));
  }
  const std::set<std::string> all{"F32",  "F16",  "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                  "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
  EXPECT_EQ(types_seen, all);
}

TEST_F(GgufSynthetic, VersionTwoReadsTheSame) {
  test::TempDir tmp;
  std::ifstream in(dir_ / "synthetic.gguf", std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), {});
  raw[4] = 2;
  const auto path = tmp.path() / "v2.gguf";
  std::ofstream(path, std::ios::binary).write(raw.data(), static_cast<std::streamsize>(raw.size()));
  const auto v2 = GgufFile::open(path);
  EXPECT_EQ(v2.version(), 2u);
  EXPECT_EQ(v2.tensors().size(), file_.tensors().size());
  EXPECT_EQ(v2.dequantize(v2.tensors().back()), file_.dequantize(file_.tensors().back()));
}

}  // namespace
}  // namespace slmq::io
