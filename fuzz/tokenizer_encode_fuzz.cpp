// Encoding arbitrary text (invalid UTF-8, special-token look-alikes, long runs) with the real
// tokenizers in assets/data/tokenizers, and decoding the ids back. The first byte picks the
// tokenizer. SLMQ_FUZZ_TOKENIZERS (a ':'-separated list of tokenizer.json files) overrides them.
#include <cstring>
#include <vector>

#include "fuzz_common.h"
#include "slmq/tokenizer/tokenizer.h"

namespace {

std::vector<slmq::Tokenizer>& tokenizers() {
  static std::vector<slmq::Tokenizer> all;
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string list =
      "assets/data/tokenizers/llama3/tokenizer.json:"
      "assets/data/tokenizers/qwen3/tokenizer.json:"
      "assets/data/tokenizers/gemma3/tokenizer.json";
  if (const char* env = std::getenv("SLMQ_FUZZ_TOKENIZERS")) list = env;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto end = std::min(list.find(':', start), list.size());
    const std::string path = list.substr(start, end - start);
    if (!path.empty()) tokenizers().push_back(slmq::Tokenizer::from_file(path));
    start = end + 1;
  }
  if (tokenizers().empty()) {
    std::fprintf(stderr, "tokenizer_encode: no tokenizers (SLMQ_FUZZ_TOKENIZERS)\n");
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto& tok = tokenizers()[data[0] % tokenizers().size()];
  const auto text = slmq::fuzz::as_text(data + 1, size - 1);
  return slmq::fuzz::guarded([&] {
    for (bool special : {false, true}) {
      const auto ids = tok.encode(text, special);
      (void)tok.decode(ids, !special);
    }
  });
}
