#include "slmq/pipeline/run_eval.h"

#include "slmq/data/data_files.h"
#include "slmq/eval/eval_output.h"

namespace slmq {

eval::EvalRunOptions eval_run_options(const EvalSection& e) {
  eval::EvalRunOptions options;
  options.tasks = e.tasks;
  if (e.num_fewshot >= 0) options.num_fewshot = static_cast<int>(e.num_fewshot);
  if (e.limit > 0) options.limit = static_cast<size_t>(e.limit);
  options.data_dir = e.data_dir;
  options.bos = eval::parse_bos_policy(e.bos, "eval.bos");
  options.batch_tokens = e.batch_tokens;
  if (e.stem_merge_width >= 0) options.stem_merge_width = e.stem_merge_width;
  return options;
}

eval::ModelLanguageModelOptions eval_lm_options(const EvalSection& e) {
  eval::ModelLanguageModelOptions options;
  if (e.max_length > 0) options.max_length = e.max_length;
  return options;
}

void check_eval_data(const EvalSection& eval) { eval::check_task_data(eval_run_options(eval)); }

EvalBlockResult run_eval_block(const RunModel& run, const eval::EvalRunOptions& options,
                               const eval::ModelLanguageModelOptions& lm_options,
                               const std::filesystem::path& samples_dir) {
  const ModelSource& source = run.source();
  const eval::ModelLanguageModel lm(
      run.model(), run.tokenizer(),
      eval::lm_eval_max_length(source.hf_config, source.tokenizer_config), lm_options);
  EvalBlockResult out;
  out.runs = eval::run_eval_tasks(lm, options, [&](const eval::TaskRun& task_run) {
    if (!samples_dir.empty()) eval::write_samples(samples_dir, task_run);
  });
  nlohmann::json settings = eval::eval_settings_json(lm, options);
  settings["data_dir"] = data::resolve_data_dir(options.data_dir).string();
  out.json = {{"tasks", eval::run_record_tasks(out.runs)},
              {"settings", settings},
              {"results", eval::lm_eval_results(out.runs)},
              {"details", eval::task_details(out.runs)}};
  return out;
}

}  // namespace slmq
