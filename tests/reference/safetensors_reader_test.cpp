// The C++ reader against files written by the reference `safetensors` package
// (scripts/reference/gen_safetensors_dtypes.py), and our writer read back by the same reader.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "slmq/core/error.h"
#include "slmq/io/json_file.h"
#include "slmq/io/safetensors.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

std::filesystem::path data(const std::string& file) {
  return test::reference_dir("safetensors_dtypes") / file;
}

TEST(SafetensorsReader, EveryDtypeMatchesTheReferenceValues) {
  auto file = SafetensorsFile::open(data("all_dtypes.safetensors"));
  auto expected = SafetensorsFile::open(data("expected.safetensors"));
  EXPECT_EQ(file.metadata().at("origin"), "gen_safetensors_dtypes");
  ASSERT_EQ(file.tensors().size(), expected.tensors().size());
  for (const auto& info : file.tensors()) {
    SCOPED_TRACE(info.name);
    at::Tensor got = file.load(info.name);
    at::Tensor want = expected.load(info.name);
    EXPECT_EQ(info.dtype, info.name == "EMPTY" ? "F32" : info.name);
    ASSERT_EQ(got.sizes(), want.sizes());
    // Widening is exact for every stored type, so the comparison is exact.
    EXPECT_TRUE(at::equal(got.to(want.scalar_type()), want));
  }
}

TEST(SafetensorsWriter, RoundTripsThroughTheReader) {
  test::TempDir dir;
  auto source = SafetensorsFile::open(data("all_dtypes.safetensors"));
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& info : source.tensors()) tensors.emplace_back(info.name, source.load(info.name));
  write_safetensors(dir.path() / "copy.safetensors", tensors, {{"k", "v"}});
  auto copy = SafetensorsFile::open(dir.path() / "copy.safetensors");
  EXPECT_EQ(copy.metadata().at("k"), "v");
  for (const auto& [name, tensor] : tensors) {
    SCOPED_TRACE(name);
    at::Tensor back = copy.load(name);
    EXPECT_EQ(back.scalar_type(), tensor.scalar_type());
    EXPECT_TRUE(at::equal(back.view(at::kByte), tensor.view(at::kByte)));
  }
}

TEST(SafetensorsCheckpoint, ShardedIndexLoadsEveryTensor) {
  auto folder = test::reference_dir("tiny_models") / "llama3_scaled_sharded";
  auto ckpt = SafetensorsCheckpoint::open(folder);
  auto names = ckpt.tensor_names();
  EXPECT_GT(names.size(), 10u);
  EXPECT_NE(ckpt.find("lm_head.weight"), nullptr);
  EXPECT_EQ(ckpt.load("model.norm.weight").numel(), 96);
}

// weight_map names a shard of the folder; a path out of it is a data error naming the entry,
// before anything is opened.
TEST(SafetensorsCheckpoint, ShardNamesStayInTheFolder) {
  const auto src = test::reference_dir("tiny_models") / "llama3_scaled_sharded";
  test::TempDir tmp;
  for (const char* bad : {"../model.safetensors", "/etc/passwd", "sub/x.safetensors", ".."}) {
    const auto folder = tmp.path() / "ckpt";
    std::filesystem::remove_all(folder);
    std::filesystem::copy(src, folder, std::filesystem::copy_options::recursive);
    nlohmann::json index = read_json_file(folder / "model.safetensors.index.json");
    index["weight_map"]["lm_head.weight"] = bad;
    std::ofstream(folder / "model.safetensors.index.json") << index.dump();
    try {
      SafetensorsCheckpoint::open(folder);
      ADD_FAILURE() << bad << " accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("lm_head.weight"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not a file name"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace slmq
