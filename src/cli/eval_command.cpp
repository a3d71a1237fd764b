// `slmquant eval MODEL --tasks arc_easy,mmlu,... [--num-fewshot N] [--limit N] [--data-dir D]
// [--bos default|always|never] [--batch-tokens N] [--stem-merge-width N] [--max-length N]
// [--out DIR] [--log-samples] [--no-resume]`:
// lm-eval 0.4.12-faithful accuracy and perplexity through the pipeline's eval block
// (pipeline/run_eval.h, as `slmquant run`'s eval: block). Prints lm-eval's results table on
// stdout; with --out, writes DIR/result.json (the run result layout), DIR/results.json (lm-eval's
// results and our details), DIR/samples_<task>.jsonl with --log-samples, and journals finished
// batches in DIR/journal/<task>.jsonl, so the same command resumes after an interruption
// (--no-resume starts afresh).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "command.h"
#include "front_end.h"
#include "model_options.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/dtype.h"
#include "slmq/core/error.h"
#include "slmq/eval/eval_output.h"
#include "slmq/pipeline/run_eval.h"
#include "slmq/pipeline/run_job.h"

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

// results.json: lm-eval's results and our per-task details, as before the one result layout
// (DIR/result.json holds the same eval object).
nlohmann::json results_document(const nlohmann::json& result) {
  const nlohmann::json& e = result.at("eval");
  const nlohmann::json& m = result.at("model");
  return {{"schema", "slmquant.eval/1"},
          {"model",
           {{"path", m.at("path")},
            {"architecture", m.at("architecture")},
            {"dtype", m.at("dtype")},
            {"device", m.at("device")},
            {"load_seconds", m.at("load_seconds")}}},
          {"settings", e.at("settings")},
          {"results", e.at("results")},
          {"tasks", e.at("details")},
          {"eval_tasks", e.at("tasks")},
          {"environment", result.at("environment")}};
}

// The flags as a run config's `eval:` block (tasks already checked under --tasks).
YAML::Node eval_block(const EvalArgs& args, const std::vector<std::string>& tasks) {
  YAML::Node e;
  for (const auto& t : tasks) e["tasks"].push_back(t);
  if (args.num_fewshot) e["num_fewshot"] = *args.num_fewshot;
  if (args.limit) e["limit"] = *args.limit;
  if (!args.data_dir.empty()) e["data_dir"] = args.data_dir;
  e["bos"] = args.bos;
  e["batch_tokens"] = args.batch_tokens;
  e["log_samples"] = args.log_samples;
  if (args.max_length) e["max_length"] = *args.max_length;
  e["stem_merge_width"] = args.stem_merge_width;
  YAML::Node root;
  root["eval"] = e;
  return root;
}

int run_eval(const EvalArgs& args) {
  if (args.log_samples && args.out.empty())
    throw ConfigError("--log-samples needs --out DIR for the samples files");
  const auto tasks = eval::split_task_list(args.tasks, "--tasks");
  eval::validate_task_names(tasks, "--tasks");
  eval::parse_bos_policy(args.bos, "--bos");
  args.model.load_options();  // --dtype, --device and --backend errors name the flags
  parse_backend_choice(args.model.backend, "--backend");
  const RunConfig config = front_end_config(args.model, eval_block(args, tasks));
  prepare_run(config);
  install_caching_cpu_allocator_from_env();
  const std::filesystem::path out_dir = args.out;
  if (!out_dir.empty()) make_directories(out_dir);
  nlohmann::json result = begin_result(config);
  std::vector<eval::TaskRun> runs;
  record_run(result, front_end_result_path(args.out), [&](nlohmann::json& r) {
    RunModel run = open_run_model(config, r);
    r["backend"] = apply_run_backend(run, config.model);
    r["model"] = model_record(run, config.model);
    eval::EvalRunOptions options = eval_run_options(config.eval);
    if (!out_dir.empty()) {
      options.journal_dir = out_dir / "journal";
      options.model_fingerprint = eval::model_files_fingerprint(args.model.path) + "|" +
                                  dtype_name(run.model().dtype()) + "|" +
                                  run.model().device().str();
      options.resume = !args.no_resume;
    }
    EvalBlockResult block = run_eval_block(run, options, eval_lm_options(config.eval),
                                           args.log_samples ? out_dir : std::filesystem::path());
    r["eval"] = std::move(block.json);
    runs = std::move(block.runs);
  });
  std::cout << eval::results_table(runs);
  if (!out_dir.empty()) {
    write_file_atomically(out_dir / "results.json", results_document(result).dump(2) + "\n");
    spdlog::info("wrote {} and result.json", (out_dir / "results.json").string());
  }
  return 0;
}

const RegisterCommand kEval{
    "eval", "Evaluate a model on lm-eval tasks (MMLU, ARC, PIQA, HellaSwag, WikiText, GSM8K)",
    [](CLI::App& app) {
      auto args = std::make_shared<EvalArgs>();
      args->model.add_to(app);
      app.add_option("--tasks", args->tasks,
                     "comma-separated: arc_easy, arc_challenge, ai2_arc, piqa, hellaswag, mmlu, "
                     "mmlu_<category> (stem, other, social_sciences, humanities), mmlu_<subject>, "
                     "wikitext, gsm8k")
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
