// The GGUF reader end to end: header, metadata, tensor table, every tensor dequantized, and the
// Hugging Face view (config.json, tokenizer.json, tokenizer_config.json, weights) built from it.
#include "fuzz_common.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_file.h"
#include "slmq/model/gguf_model.h"

namespace {

// Dequantized output is bounded by the file (at most 16 elements per stored byte, Q2_K), so this
// cap only keeps single executions fast; sizes beyond it are still validated by open().
constexpr std::int64_t kMaxElements = std::int64_t{1} << 22;

void exercise(const std::filesystem::path& path) {
  const auto file = slmq::io::GgufFile::open(path);
  for (const auto& [key, value] : file.metadata()) (void)value.to_display_string();
  for (const auto& info : file.tensors()) {
    if (!slmq::io::can_dequantize(info.type) || info.n_elements > kMaxElements) continue;
    (void)file.dequantize(info);
  }
  const auto files = slmq::load_gguf_model_files(path);
  for (const auto& [name, weight] : files.weights) {
    std::int64_t n = 1;
    for (auto d : weight.shape) n *= d;
    if (n <= kMaxElements) (void)weight.load();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = slmq::fuzz::write_input("model.gguf", slmq::fuzz::as_text(data, size));
  return slmq::fuzz::guarded([&] { exercise(path); });
}
