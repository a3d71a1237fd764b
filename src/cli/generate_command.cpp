// `slmquant generate MODEL (--prompt TEXT | --prompt-ids 1,2,3) [--max-new-tokens N]`: greedy
// continuation, streamed as text (or ids), with prompt and decode speed on stderr.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "model_options.h"
#include "slmq/core/error.h"
#include "slmq/model/generate.h"
#include "slmq/pipeline/run_model.h"

namespace slmq::cli {
namespace {

struct GenerateArgs {
  ModelOptions model;
  std::string prompt;
  std::vector<int64_t> prompt_ids;
  int64_t max_new_tokens = 32;
  bool ignore_eos = false;
};

// Prints the text of the tokens so far as it grows. A token can end inside a UTF-8 character,
// which decodes to U+FFFD until the next token completes it, so a trailing U+FFFD is held back.
class TextStreamer {
 public:
  explicit TextStreamer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  void operator()(const std::vector<std::vector<int64_t>>& tokens) {
    std::vector<int32_t> ids(tokens[0].begin(), tokens[0].end());
    std::string text = tokenizer_.decode(ids, /*skip_special_tokens=*/true);
    static const std::string kReplacement = "\xEF\xBF\xBD";
    if (text.size() >= kReplacement.size() && text.ends_with(kReplacement)) return;
    if (text.size() > printed_ && text.compare(0, printed_, text, 0, printed_) == 0) {
      std::cout << text.substr(printed_) << std::flush;
      printed_ = text.size();
    }
  }

 private:
  const Tokenizer& tokenizer_;
  size_t printed_ = 0;
};

void print_speed(const GenerateResult& r) {
  const auto steps = static_cast<int64_t>(r.tokens[0].size()) - 1;
  std::cerr << fmt::format("prompt {} tokens in {:.3f} s ({:.1f} tok/s); ", r.prompt_tokens,
                           r.prefill_seconds, r.prompt_tokens / std::max(r.prefill_seconds, 1e-12))
            << fmt::format("decode {} tokens in {:.3f} s ({:.1f} tok/s)\n", steps, r.decode_seconds,
                           steps > 0 ? steps / std::max(r.decode_seconds, 1e-12) : 0.0);
}

int run_generate(const GenerateArgs& args) {
  if (args.prompt.empty() == args.prompt_ids.empty())
    throw ConfigError("generate: give exactly one of --prompt and --prompt-ids");
  // Model and tokenizer from one opening of the path.
  RunModel run = RunModel::open(args.model.path, args.model.load_options());
  apply_backend_choice(run.model(), parse_backend_choice(args.model.backend, "--backend"));
  run.model().set_kv_storage(parse_kv_storage(args.model.kv_cache, "--kv-cache"));
  const Model& model = run.model();
  GenerateOptions options{args.max_new_tokens, !args.ignore_eos, {}, {}};
  if (args.prompt_ids.empty()) {
    const Tokenizer& tokenizer = *run.tokenizer();
    auto ids = tokenizer.encode(args.prompt, /*add_special_tokens=*/true);
    TextStreamer streamer(tokenizer);
    options.on_step = std::ref(streamer);
    std::cout << args.prompt << std::flush;
    GenerateResult r =
        greedy_generate(model, {std::vector<int64_t>(ids.begin(), ids.end())}, options);
    std::cout << "\n";
    print_speed(r);
    return 0;
  }
  GenerateResult r = greedy_generate(model, {args.prompt_ids}, options);
  std::cout << fmt::format("{}\n", fmt::join(r.tokens[0], ","));
  print_speed(r);
  return 0;
}

const RegisterCommand kGenerate{
    "generate", "Greedy generation from a text prompt or prompt token ids", [](CLI::App& app) {
      auto args = std::make_shared<GenerateArgs>();
      args->model.add_to(app);
      app.add_option("--prompt", args->prompt,
                     "prompt text (tokenized with the model's tokenizer); output is streamed text");
      app.add_option("--prompt-ids", args->prompt_ids,
                     "comma-separated prompt token ids; output is ids")
          ->delimiter(',');
      app.add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate")
          ->capture_default_str()
          ->check(CLI::PositiveNumber);
      app.add_flag("--ignore-eos", args->ignore_eos,
                   "generate max-new-tokens even past EOS (speed runs)");
      return [args] { return run_generate(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
