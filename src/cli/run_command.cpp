// `slmquant run CONFIG.yaml [--out DIR] [--set key.path=value ...] [--force]`: the main job.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "slmq/pipeline/run_job.h"

namespace slmq::cli {
namespace {

struct RunArgs {
  std::string config;
  std::string out;
  std::vector<std::string> overrides;
  bool force = false;
};

int run_run(const RunArgs& args) {
  RunConfig config = load_run_config(args.config, args.overrides);
  RunOptions options;
  if (!args.out.empty()) options.out_dir = args.out;
  options.force = args.force;
  RunOutcome outcome = run_job(config, options);
  std::cout << outcome.result_path.string() << "\n";
  return 0;
}

const RegisterCommand kRun{
    "run", "Run an experiment config and write its result file", [](CLI::App& app) {
      auto args = std::make_shared<RunArgs>();
      app.add_option("CONFIG", args->config, "run config (YAML)")->required();
      app.add_option("--out", args->out, "output directory (overrides output.dir)");
      app.add_option("--set", args->overrides,
                     "override a config key: key.path=value (repeatable)");
      app.add_flag("--force", args->force, "recompute even when an up-to-date result exists");
      return [args] { return run_run(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
