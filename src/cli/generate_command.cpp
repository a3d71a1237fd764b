// `slmquant generate MODEL --prompt-ids 1,2,3 --max-new-tokens N`: greedy continuation ids on
// stdout, speed on stderr.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "model_options.h"
#include "slmq/model/generate.h"

namespace slmq::cli {
namespace {

struct GenerateArgs {
  ModelOptions model;
  std::vector<int64_t> prompt_ids;
  int64_t max_new_tokens = 32;
  bool ignore_eos = false;
};

int run_generate(const GenerateArgs& args) {
  auto model = load_model(args.model.path, args.model.load_options());
  GenerateResult r = greedy_generate(*model, {args.prompt_ids}, {args.max_new_tokens, !args.ignore_eos});
  std::cout << fmt::format("{}\n", fmt::join(r.tokens[0], ","));
  const auto steps = static_cast<int64_t>(r.tokens[0].size()) - 1;
  std::cerr << fmt::format("prompt {} tokens in {:.3f} s ({:.1f} tok/s); ", r.prompt_tokens, r.prefill_seconds,
                           r.prompt_tokens / std::max(r.prefill_seconds, 1e-12))
            << fmt::format("decode {} tokens in {:.3f} s ({:.1f} tok/s)\n", steps, r.decode_seconds,
                           steps > 0 ? steps / std::max(r.decode_seconds, 1e-12) : 0.0);
  return 0;
}

const RegisterCommand kGenerate{"generate", "Greedy generation from prompt token ids", [](CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  args->model.add_to(app);
  app.add_option("--prompt-ids", args->prompt_ids, "comma-separated prompt token ids")
      ->required()
      ->delimiter(',');
  app.add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--ignore-eos", args->ignore_eos, "generate max-new-tokens even past EOS (speed runs)");
  return [args] { return run_generate(*args); };
}};

}  // namespace
}  // namespace slmq::cli
