// The MMLU CSV reader (RFC 4180: quoted fields with commas, quotes and newlines, a fixed header).
#include "fuzz_common.h"
#include "slmq/data/datasets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = slmq::fuzz::scratch_dir() / "csv";
  slmq::fuzz::write_input("csv/mmlu/data/test/anatomy_test.csv", slmq::fuzz::as_text(data, size));
  return slmq::fuzz::guarded([&] { (void)slmq::data::load_mmlu(dir, "anatomy", "test"); });
}
