// tokenizer.json loading (model, normalizer, pre-tokenizer, post-processor, decoder, added tokens)
// and encoding with whatever tokenizer the input describes: the bytes are the file; a fixed text
// with specials, bytes outside ASCII and invalid UTF-8 is encoded and decoded with it.
#include "fuzz_common.h"
#include "slmq/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = slmq::fuzz::write_input("tokenizer.json", slmq::fuzz::as_text(data, size));
  return slmq::fuzz::guarded([&] {
    const auto tok = slmq::Tokenizer::from_file(path);
    static const std::string kText =
        "Hello world! <s> 12345 l'été   \t\n naïve \xF0\x9F\x98\x80 \xff\xfe tail</s>";
    for (bool special : {false, true}) {
      const auto ids = tok.encode(kText, special);
      (void)tok.decode(ids, !special);
    }
    const std::int32_t probe[] = {0, 1, 2, 255, 256, -1, 1 << 30};
    (void)tok.decode(probe, false);
  });
}
