// The run config of `slmquant run`: the input is a YAML file read by load_run_config (YAML
// parse, duplicate keys, every section's keys, types and ranges, the quant: block with its
// method options from the method table); the bytes after a NUL, if any, are one --set override
// ("key.path=value"). An accepted config is also recorded as the result file does (to_json and
// the hash). Not covered: the task names of eval.tasks, which run_job checks against the task
// registry of src/eval (torch).
#include "fuzz_common.h"
#include "slmq/config/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [file, override_text] = slmq::fuzz::split_at_nul(slmq::fuzz::as_text(data, size));
  const auto path = slmq::fuzz::write_input("run.yaml", file);
  std::vector<std::string> overrides;
  if (!override_text.empty()) overrides.emplace_back(override_text);
  return slmq::fuzz::guarded([&] {
    const slmq::RunConfig config = slmq::load_run_config(path, overrides);
    (void)config.hash();
  });
}
