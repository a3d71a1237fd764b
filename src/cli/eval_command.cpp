// `slmquant eval MODEL --tasks arc_easy,mmlu,... [--num-fewshot N] [--limit N] [--data-dir D]
// [--bos default|always|never] [--batch-tokens N] [--stem-merge-width N] [--max-length N]
// [--out DIR] [--log-samples] [--no-resume]`:
// lm-eval 0.4.12-faithful accuracy and perplexity. Prints lm-eval's results table on stdout;
// with --out, writes DIR/results.json (and DIR/samples_<task>.jsonl with --log-samples) and
// journals finished batches in DIR/journal/<task>.jsonl, so the same command resumes after an
// interruption (--no-resume starts afresh).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "model_options.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/dtype.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/data/data_files.h"
#include "slmq/eval/eval_output.h"
#include "slmq/eval/model_language_model.h"

namespace slmq::cli {
namespace {

struct EvalArgs {
  ModelOptions model;
  std::string tasks;
  std::optional<int> num_fewshot;
  std::optional<size_t> limit;
  std::string data_dir;
  std::string bos = "default";
  int64_t batch_tokens = 0;
  int64_t stem_merge_width = eval::StemMergeOptions{}.max_width;
  std::optional<int64_t> max_length;
  std::string out;
  bool log_samples = false;
  bool no_resume = false;
};

nlohmann::json results_document(const EvalArgs& args, const Model& model,
                                const eval::LanguageModel& lm, const eval::EvalRunOptions& options,
                                const std::vector<eval::TaskRun>& runs, double load_seconds) {
  nlohmann::json doc = {{"schema", "slmquant.eval/1"},
                        {"model",
                         {{"path", args.model.path},
                          {"architecture", model.config().architecture},
                          {"dtype", dtype_name(model.dtype())},
                          {"device", model.device().str()},
                          {"load_seconds", load_seconds}}},
                        {"settings", eval::eval_settings_json(lm, options)},
                        {"results", eval::lm_eval_results(runs)},
                        {"tasks", eval::task_details(runs)},
                        {"eval_tasks", eval::run_record_tasks(runs)},
                        {"environment", environment_info(model.device())}};
  doc["settings"]["data_dir"] = data::resolve_data_dir(options.data_dir).string();
  return doc;
}

int run_eval(const EvalArgs& args) {
  if (args.log_samples && args.out.empty())
    throw ConfigError("--log-samples needs --out DIR for the samples files");
  eval::EvalRunOptions options;
  options.tasks = eval::split_task_list(args.tasks, "--tasks");
  eval::validate_task_names(options.tasks, "--tasks");
  options.num_fewshot = args.num_fewshot;
  options.limit = args.limit;
  options.data_dir = args.data_dir;
  options.bos = eval::parse_bos_policy(args.bos, "--bos");
  options.batch_tokens = args.batch_tokens;
  options.stem_merge_width = args.stem_merge_width;

  install_caching_cpu_allocator_from_env();
  auto start = SteadyClock::now();
  auto model = args.model.load();
  eval::ModelLanguageModelOptions lm_options;
  lm_options.max_length = args.max_length;
  auto lm = eval::make_model_language_model(*model, args.model.path, lm_options);
  const double load_seconds = seconds_since(start);
  spdlog::info("loaded {} on {} in {:.1f} s; max_length {}, BOS policy {}", args.model.path,
               model->device().str(), load_seconds, lm->max_length(),
               eval::bos_policy_name(options.bos));

  const std::filesystem::path out_dir = args.out;
  if (!out_dir.empty()) {
    options.journal_dir = out_dir / "journal";
    options.model_fingerprint = eval::model_files_fingerprint(args.model.path) + "|" +
                                dtype_name(model->dtype()) + "|" + model->device().str();
    options.resume = !args.no_resume;
  }
  auto runs = eval::run_eval_tasks(*lm, options, [&](const eval::TaskRun& run) {
    if (!out_dir.empty() && args.log_samples) eval::write_samples(out_dir, run);
  });
  std::cout << eval::results_table(runs);
  if (!out_dir.empty()) {
    std::filesystem::create_directories(out_dir);
    auto doc = results_document(args, *model, *lm, options, runs, load_seconds);
    write_file_atomically(out_dir / "results.json", doc.dump(2) + "\n");
    spdlog::info("wrote {}", (out_dir / "results.json").string());
  }
  return 0;
}

const RegisterCommand kEval{
    "eval", "Evaluate a model on lm-eval tasks (MMLU, ARC, PIQA, HellaSwag, WikiText, GSM8K)",
    [](CLI::App& app) {
      auto args = std::make_shared<EvalArgs>();
      args->model.add_to(app);
      app.add_option("--tasks", args->tasks,
                     "comma-separated: arc_easy, arc_challenge, piqa, hellaswag, mmlu, wikitext, "
                     "gsm8k")
          ->required();
      app.add_option("--num-fewshot", args->num_fewshot, "few-shot examples (default: the task's)")
          ->check(CLI::NonNegativeNumber);
      app.add_option("--limit", args->limit, "evaluate the first N docs (per MMLU subject)")
          ->check(CLI::PositiveNumber);
      app.add_option("--data-dir", args->data_dir,
                     "benchmark data (default: $SLMQ_DATA_DIR, else assets/data)");
      app.add_option("--bos", args->bos,
                     "BOS policy: default (the tokenizer's, as lm-eval >= 0.4.9.2), always, never")
          ->capture_default_str();
      app.add_option("--batch-tokens", args->batch_tokens,
                     "tokens per batch (default: chosen from free memory)")
          ->check(CLI::PositiveNumber);
      app.add_option("--stem-merge-width", args->stem_merge_width,
                     "items sharing a few-shot stem (MMLU) are computed together in groups of up "
                     "to N tokens; 0: each item alone")
          ->capture_default_str()
          ->check(CLI::NonNegativeNumber);
      app.add_option("--max-length", args->max_length,
                     "context length (default: lm-eval's rule from config.json)")
          ->check(CLI::Range(int64_t{2}, int64_t{1} << 30));
      app.add_option("--out", args->out, "write DIR/results.json (and samples) here");
      app.add_flag("--log-samples", args->log_samples,
                   "per-item DIR/samples_<task>.jsonl (needs --out)");
      app.add_flag("--no-resume", args->no_resume,
                   "recompute everything, replacing DIR/journal (default: reuse batches an "
                   "interrupted run with the same model and settings journaled)");
      return [args] { return run_eval(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
