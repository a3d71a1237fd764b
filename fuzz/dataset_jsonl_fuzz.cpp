// The JSONL dataset readers: the first byte picks ARC, MMLU (HF export), PIQA (HF), GSM8K,
// HellaSwag (raw HF rows) or WikiText-2 (HF document-level rows); the rest is the file.
#include "fuzz_common.h"
#include "slmq/data/datasets.h"
#include "slmq/data/wikitext.h"

namespace {

void exercise(int reader, std::string_view file) {
  using namespace slmq::data;
  namespace fuzz = slmq::fuzz;
  // One data folder per reader, so files written for one never reach another.
  const auto dir = fuzz::scratch_dir() / ("jsonl" + std::to_string(reader));
  const auto rel = dir.filename();
  switch (reader) {
    case 0:
      fuzz::write_input(rel / "arc" / "ARC-Easy-validation.jsonl", file);
      (void)load_arc(dir, "ARC-Easy", "validation");
      break;
    case 1:
      fuzz::write_input(rel / "mmlu" / "hf" / "anatomy" / "test.jsonl", file);
      (void)load_mmlu(dir, "anatomy", "test");
      break;
    case 2:
      fuzz::write_input(rel / "piqa" / "validation.jsonl", file);
      (void)load_piqa(dir, "validation");
      break;
    case 3:
      fuzz::write_input(rel / "gsm8k" / "test.jsonl", file);
      (void)load_gsm8k(dir, "test");
      break;
    case 4:
      fuzz::write_input(rel / "hellaswag" / "validation.jsonl", file);
      (void)load_hellaswag(dir);
      break;
    default:
      fuzz::write_input(rel / "wikitext2" / "document_level" / "test.jsonl", file);
      fuzz::write_input(rel / "wikitext2" / "wikitext-2-raw-v1" / "test.jsonl", file);
      (void)load_wikitext_pages(dir);
      (void)load_wikitext2_test_rows(dir);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  return slmq::fuzz::guarded(
      [&] { exercise(data[0] % 6, slmq::fuzz::as_text(data + 1, size - 1)); });
}
