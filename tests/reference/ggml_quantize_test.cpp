// ggml's reference quantizers (io/ggml_quantize.h) against the PyPI gguf package's
// quants.quantize on the rows of gen_gguf_export.py (a zero block, ties, large scales): the bytes
// must be identical (tolerance: none), and every block decodes through our dequantizer.
#include <gtest/gtest.h>

#include <cmath>

#include "slmq/io/ggml_quantize.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/json_file.h"
#include "support/reference_files.h"
#include "support/temp_dir.h"

namespace slmq::io {
namespace {

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

TEST(GgmlQuantize, BytesEqualTheGgufPackage) {
  const auto dir = test::reference_dir("gguf_export");
  const auto refs = read_json_file(dir / "quantize.json");
  const std::vector<float> x = test::read_f32(dir / "quantize_input.f32");
  ASSERT_EQ(x.size(), refs["rows"].get<size_t>() * refs["cols"].get<size_t>());
  for (const auto& [name, type] : {std::pair{"F16", GgmlType::kF16},
                                   {"BF16", GgmlType::kBF16},
                                   {"Q4_0", GgmlType::kQ4_0},
                                   {"Q4_1", GgmlType::kQ4_1},
                                   {"Q8_0", GgmlType::kQ8_0}}) {
    const auto bytes = ggml_quantize(type, x);
    EXPECT_EQ(hex(bytes), refs["bytes"][name].get<std::string>()) << name;
    std::vector<float> back(x.size());
    dequantize(type, bytes, back);  // decodes without error, finite
    for (float v : back) EXPECT_TRUE(std::isfinite(v)) << name;
  }
}

TEST(GgmlQuantize, Fp16RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);            // rounds up to infinity
  EXPECT_EQ(fp32_to_fp16(1.0f + 1.0f / 2048), 0x3c00);  // a tie goes to the even mantissa
  EXPECT_EQ(fp32_to_fp16(1.0f + 3.0f / 2048), 0x3c02);
  EXPECT_EQ(fp16_to_fp32(fp32_to_fp16(-0.1f)), -0.0999755859375f);
}

}  // namespace
}  // namespace slmq::io
