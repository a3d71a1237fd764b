#include "slmq/sweep/run_eval.h"

#include "slmq/data/data_files.h"
#include "slmq/eval/eval_output.h"
#include "slmq/eval/model_language_model.h"

namespace slmq {

namespace {

eval::EvalRunOptions eval_run_options(const EvalSection& e) {
  eval::EvalRunOptions options;
  options.tasks = e.tasks;
  if (e.num_fewshot >= 0) options.num_fewshot = static_cast<int>(e.num_fewshot);
  if (e.limit > 0) options.limit = static_cast<size_t>(e.limit);
  options.data_dir = e.data_dir;
  options.bos = eval::parse_bos_policy(e.bos, "eval.bos");
  options.batch_tokens = e.batch_tokens;
  return options;
}

}  // namespace

void check_eval_data(const RunConfig& config) {
  eval::check_task_data(eval_run_options(config.eval));
}

nlohmann::json run_eval_block(const Model& model, const RunConfig& config,
                              const std::filesystem::path& samples_dir,
                              const std::filesystem::path& journal_dir, bool resume) {
  const EvalSection& e = config.eval;
  eval::EvalRunOptions options = eval_run_options(e);
  // The config hash covers the quantization and eval settings; the files, what the path holds.
  options.journal_dir = journal_dir;
  options.model_fingerprint =
      config.hash() + "|" + eval::model_files_fingerprint(config.model.path);
  options.resume = resume;
  auto lm = eval::make_model_language_model(model, config.model.path);
  auto runs = eval::run_eval_tasks(*lm, options, [&](const eval::TaskRun& run) {
    if (e.log_samples) eval::write_samples(samples_dir, run);
  });
  nlohmann::json settings = eval::eval_settings_json(*lm, options);
  settings["data_dir"] = data::resolve_data_dir(options.data_dir).string();
  return {{"tasks", eval::run_record_tasks(runs)},
          {"settings", settings},
          {"results", eval::lm_eval_results(runs)},
          {"details", eval::task_details(runs)}};
}

}  // namespace slmq
