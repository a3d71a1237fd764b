// The plain-text dataset layouts: the first byte picks llama.cpp's HellaSwag file (6 lines per
// item), the WikiText-2 raw test file, or PIQA's original pair (questions JSONL, then after a NUL
// byte the labels .lst).
#include "fuzz_common.h"
#include "slmq/data/datasets.h"
#include "slmq/data/wikitext.h"

namespace {

void exercise(int reader, std::string_view file) {
  using namespace slmq::data;
  namespace fuzz = slmq::fuzz;
  const auto dir = fuzz::scratch_dir() / ("text" + std::to_string(reader));
  const auto rel = dir.filename();
  switch (reader) {
    case 0:
      fuzz::write_input(rel / "hellaswag" / "hellaswag_val_full.txt", file);
      (void)load_hellaswag(dir);
      break;
    case 1:
      fuzz::write_input(rel / "wikitext2" / "wiki.test.raw", file);
      (void)load_wikitext_pages(dir);
      (void)load_wikitext2_test_rows(dir);
      break;
    default: {
      const auto [questions, labels] = fuzz::split_at_nul(file);
      fuzz::write_input(rel / "piqa" / "dev.jsonl", questions);
      fuzz::write_input(rel / "piqa" / "dev-labels.lst", labels);
      (void)load_piqa(dir, "validation");
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  return slmq::fuzz::guarded(
      [&] { exercise(data[0] % 3, slmq::fuzz::as_text(data + 1, size - 1)); });
}
