// The result-file reader `slmquant report` uses: one input file in a folder, loaded as report
// loads its inputs (a bad file is skipped and named, never fatal).
#include "fuzz_common.h"
#include "slmq/report/analysis.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = slmq::fuzz::write_input("results/run.json", slmq::fuzz::as_text(data, size));
  return slmq::fuzz::guarded([&] {
    std::vector<slmq::report::InputFile> files;
    (void)slmq::report::load_results({path.parent_path()}, &files);
  });
}
