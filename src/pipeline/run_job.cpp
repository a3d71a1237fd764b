#include "slmq/pipeline/run_job.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "slmq/calib/calibration_config.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/dtype.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"
#include "slmq/core/fault_injection.h"
#include "slmq/eval/eval_run.h"
#include "slmq/io/json_file.h"
#include "slmq/model/generate.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/pipeline/run_eval.h"
#include "slmq/pipeline/run_ppl.h"
#include "slmq/pipeline/run_quant.h"
#include "slmq/profile/inference_profile.h"
#include "slmq/quant/backends/backend_choice.h"

namespace slmq {
namespace {

bool up_to_date(const std::filesystem::path& path, const std::string& hash) {
  if (!std::filesystem::exists(path)) return false;
  try {
    nlohmann::json old = read_json_file(path);
    return old.value("status", "") == "ok" && old.value("config_hash", "") == hash;
  } catch (const DataError&) {
    return false;  // unreadable: recompute and overwrite
  }
}

void compute(const RunConfig& config, const std::filesystem::path& result_path, bool force,
             RunShared* shared, nlohmann::json& result) {
  prepare_run(config);
  RunModel run = open_run_model(config, result, shared);
  std::unique_ptr<Model> other_baseline = open_ppl_baseline(config, run);
  if (config.quant) run_quant_block(run, *config.quant, result);
  result["backend"] = apply_run_backend(run, config.model);
  result["model"] = model_record(run, config.model);
  if (config.generate.enabled) result["generate"] = run_generate_block(run, config.generate);
  // After quantization, whose peak-RSS cost must not count blocks cached for reuse.
  if (config.eval.enabled || config.ppl.enabled || config.profile.enabled)
    install_caching_cpu_allocator_from_env();
  if (config.eval.enabled) {
    eval::EvalRunOptions options = eval_run_options(config.eval);
    // The config hash covers the quantization and eval settings; the files, what the path holds.
    options.journal_dir = journal_dir_for(result_path);
    options.model_fingerprint =
        config.hash() + "|" + eval::model_files_fingerprint(config.model.path);
    options.resume = !force;
    result["eval"] = run_eval_block(run, options, eval_lm_options(config.eval),
                                    config.eval.log_samples ? samples_dir_for(result_path)
                                                            : std::filesystem::path())
                         .json;
  }
  if (config.ppl.enabled) {
    const Model* baseline = other_baseline ? other_baseline.get() : run.baseline();
    result["ppl"] = run_ppl_block(run, baseline, config.ppl, shared).json;
    result["eval"]["tasks"]["wiki_token_ppl"] = wiki_token_ppl_task(result["ppl"]);
  }
  // Last: its memory tracker wraps the caching allocator installed above.
  if (config.profile.enabled) result["profile"] = run_profile_block(run.model(), config.profile);
}

}  // namespace

void check_run_config(const RunConfig& config) {
  if (config.eval.enabled) eval::validate_task_names(config.eval.tasks, "eval.tasks");
}

void prepare_run(const RunConfig& config) {
  at::manual_seed(static_cast<uint64_t>(config.seed));
  if (config.eval.enabled) check_eval_data(config.eval);
  if (config.ppl.enabled) check_ppl_data(config.ppl);
  // The calibration text too: a missing file fails now, not after loading the model.
  if (config.quant && config.quant->uses_calibration()) {
    const auto& c = config.quant->calibration;
    const auto path = resolve_calibration_source(c, c.data_dir);
    if (!std::filesystem::is_regular_file(path)) {
      throw DataError("quant.calibration.source '" + c.source + "': " + path.string() +
                      " does not exist (data folder: $SLMQ_DATA_DIR, ./assets/data or the one "
                      "beside the slmquant binary)");
    }
  }
}

RunModel open_run_model(const RunConfig& config, nlohmann::json& result, RunShared* shared) {
  const c10::Device device = parse_device(config.model.device, "model.device");
  result["environment"] = environment_info(device);
  if (shared) {
    RunModel run = shared->open_model(config);
    spdlog::info("built {} ({}) from the shared open source in {:.2f} s", config.model.path,
                 run.model().config().architecture, run.load_seconds());
    return run;
  }
  const LoadOptions load{parse_compute_dtype(config.model.dtype, "model.dtype"), device};
  // KL against the model before quantization: a second copy from the same open files.
  const bool baseline_copy = config.ppl.kl && config.ppl.baseline.empty();
  RunModel run = RunModel::open(config.model.path, load, baseline_copy);
  fault_point("load");
  spdlog::info("loaded {} ({}) in {:.2f} s", config.model.path, run.model().config().architecture,
               run.load_seconds());
  return run;
}

nlohmann::json apply_run_backend(RunModel& run, const ModelSection& model) {
  run.model().set_kv_storage(parse_kv_storage(model.kv_cache, "model.kv_cache"));
  return apply_backend_choice(run.model(), parse_backend_choice(model.backend, "model.backend"))
      .to_json();
}

std::unique_ptr<Model> open_ppl_baseline(const RunConfig& config, const RunModel& run) {
  if (config.ppl.baseline.empty()) return nullptr;
  const std::string& dtype =
      config.ppl.baseline_dtype.empty() ? config.model.dtype : config.ppl.baseline_dtype;
  return load_any_model(config.ppl.baseline,
                        {parse_compute_dtype(dtype, "ppl.baseline_dtype"), run.model().device()});
}

nlohmann::json run_generate_block(const RunModel& run, const GenerateSection& g) {
  std::vector<int64_t> prompt_ids = g.prompt_ids;
  if (!g.prompt.empty()) {
    auto ids = run.tokenizer()->encode(g.prompt, /*add_special_tokens=*/true);
    prompt_ids.assign(ids.begin(), ids.end());
  }
  GenerateResult r =
      greedy_generate(run.model(), {prompt_ids}, {g.max_new_tokens, g.stop_at_eos, {}, {}});
  // The first new token comes from the prefill; each further one from one decode step.
  const int64_t decode_steps = static_cast<int64_t>(r.tokens[0].size()) - 1;
  nlohmann::json text = nullptr;
  if (!g.prompt.empty()) {
    std::vector<int32_t> ids(r.tokens[0].begin(), r.tokens[0].end());
    text = run.tokenizer()->decode(ids, /*skip_special_tokens=*/true);
  }
  return {{"prompt", g.prompt},
          {"prompt_ids", prompt_ids},
          {"new_token_ids", r.tokens[0]},
          {"new_text", text},
          {"prompt_tokens", r.prompt_tokens},
          {"new_tokens", r.tokens[0].size()},
          {"prefill_seconds", r.prefill_seconds},
          {"decode_seconds", r.decode_seconds},
          {"prefill_tokens_per_second", r.prompt_tokens / std::max(r.prefill_seconds, 1e-12)},
          {"decode_tokens_per_second",
           decode_steps > 0 ? nlohmann::json(decode_steps / std::max(r.decode_seconds, 1e-12))
                            : nlohmann::json()}};
}

std::filesystem::path samples_dir_for(const std::filesystem::path& result_path) {
  return result_path.parent_path() / (result_path.stem().string() + ".samples");
}

std::filesystem::path journal_dir_for(const std::filesystem::path& result_path) {
  return result_path.parent_path() / (result_path.stem().string() + ".journal");
}

std::filesystem::path result_path_for(const RunConfig& config, const RunOptions& options) {
  return options.out_dir.value_or(std::filesystem::path(config.output.dir)) /
         (config.name + ".json");
}

RunOutcome run_job(const RunConfig& config, const RunOptions& options) {
  check_run_config(config);
  RunOutcome outcome;
  outcome.result_path = result_path_for(config, options);
  const std::string hash = config.hash();
  if (!options.force && up_to_date(outcome.result_path, hash)) {
    spdlog::info("{} is up to date (config hash {}); --force recomputes it",
                 outcome.result_path.string(), hash);
    outcome.reused = true;
    outcome.result = read_json_file(outcome.result_path);
    return outcome;
  }
  nlohmann::json result = begin_result(config);
  record_run(result, outcome.result_path, [&](nlohmann::json& r) {
    compute(config, outcome.result_path, options.force, options.shared, r);
  });
  outcome.result = std::move(result);
  return outcome;
}

}  // namespace slmq
