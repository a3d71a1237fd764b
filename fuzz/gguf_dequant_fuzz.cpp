// Every ggml dequantizer on arbitrary blocks: the first byte picks the type, the rest are blocks.
// The dequantizers trust the reader's size checks, so sizes here follow their contract; what is
// fuzzed is the block contents (scales, sub-block scales and mins, packed bits, fp16 specials).
#include <array>
#include <vector>

#include "fuzz_common.h"
#include "slmq/io/ggml_types.h"
#include "slmq/io/gguf_dequant.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using slmq::io::GgmlType;
  static const std::array kTypes = {
      GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0, GgmlType::kQ4_1,
      GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ2_K, GgmlType::kQ3_K,
      GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};
  if (size < 1) return 0;
  const GgmlType type = kTypes[data[0] % kTypes.size()];
  const auto traits = slmq::io::ggml_type_traits(static_cast<std::uint32_t>(type));
  const std::size_t blocks = (size - 1) / traits->type_size;
  std::vector<float> out(blocks * traits->block_size);
  return slmq::fuzz::guarded([&] {
    slmq::io::dequantize(type, {data + 1, blocks * traits->type_size}, out);
  });
}
