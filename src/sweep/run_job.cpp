#include "slmq/sweep/run_job.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "slmq/core/atomic_file.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/dtype.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/eval/eval_run.h"
#include "slmq/io/json_file.h"
#include "slmq/model/generate.h"
#include "slmq/model/model_loader.h"
#include "slmq/model/model_tokenizer.h"
#include "slmq/profile/inference_profile.h"
#include "slmq/quant/backends/backend_choice.h"
#include "slmq/pipeline/model_open.h"
#include "slmq/sweep/run_eval.h"
#include "slmq/sweep/run_ppl.h"
#include "slmq/sweep/run_quant.h"

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

nlohmann::json generate_section(const Model& model, const std::string& model_path,
                                const GenerateSection& g) {
  std::vector<int64_t> prompt_ids = g.prompt_ids;
  std::optional<Tokenizer> tokenizer;
  if (!g.prompt.empty()) {
    tokenizer.emplace(load_model_tokenizer(model_path));
    auto ids = tokenizer->encode(g.prompt, /*add_special_tokens=*/true);
    prompt_ids.assign(ids.begin(), ids.end());
  }
  GenerateResult r =
      greedy_generate(model, {prompt_ids}, {g.max_new_tokens, g.stop_at_eos, {}, {}});
  // The first new token comes from the prefill; each further one from one decode step.
  const int64_t decode_steps = static_cast<int64_t>(r.tokens[0].size()) - 1;
  nlohmann::json text = nullptr;
  if (tokenizer) {
    std::vector<int32_t> ids(r.tokens[0].begin(), r.tokens[0].end());
    text = tokenizer->decode(ids, /*skip_special_tokens=*/true);
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

void compute(const RunConfig& config, const std::filesystem::path& result_path, bool force,
             nlohmann::json& result) {
  at::manual_seed(static_cast<uint64_t>(config.seed));
  // Data first: a missing file must not cost a model load and a quantization.
  if (config.eval.enabled) check_eval_data(config);
  if (config.ppl.enabled) check_ppl_data(config.ppl);
  c10::Device device = parse_device(config.model.device, "model.device");
  result["environment"] = environment_info(device);
  LoadOptions load{parse_compute_dtype(config.model.dtype, "model.dtype"), device};
  auto start = SteadyClock::now();
  auto model = load_any_model(config.model.path, load);
  const double load_seconds = seconds_since(start);
  spdlog::info("loaded {} ({}) in {:.2f} s", config.model.path, model->config().architecture,
               load_seconds);
  // KL needs the model as it was before quantization: a second copy, loaded the same way.
  std::unique_ptr<Model> baseline;
  if (config.ppl.kl) baseline = load_any_model(config.model.path, load);
  if (config.quant) run_quant_block(*model, config.model.path, *config.quant, result);
  result["backend"] =
      apply_backend_choice(*model, parse_backend_choice(config.model.backend, "model.backend"))
          .to_json();
  // name/family/params/source are the keys `slmquant report` reads (docs/result_schema.md).
  const ModelSummary summary = model->summary();
  result["model"] = {{"name", config.model.name},
                     {"family", model->config().model_type},
                     {"params", summary.parameters},
                     {"source", config.model.path},
                     {"path", config.model.path},
                     {"architecture", model->config().architecture},
                     {"dtype", dtype_name(model->dtype())},
                     {"device", model->device().str()},
                     {"tied_embeddings", model->config().tie_word_embeddings},
                     {"summary", summary.to_json()},
                     {"config", model->config().to_json()},
                     {"load_seconds", load_seconds}};
  if (config.generate.enabled)
    result["generate"] = generate_section(*model, config.model.path, config.generate);
  // After quantization, whose peak-RSS cost must not count blocks cached for reuse.
  if (config.eval.enabled || config.ppl.enabled || config.profile.enabled)
    install_caching_cpu_allocator_from_env();
  if (config.eval.enabled) {
    result["eval"] = run_eval_block(*model, config, samples_dir_for(result_path),
                                    journal_dir_for(result_path), /*resume=*/!force);
  }
  if (config.ppl.enabled) {
    result["ppl"] = run_ppl_block(*model, baseline.get(), config.model.path, config.ppl);
    result["eval"]["tasks"]["wiki_token_ppl"] = wiki_token_ppl_task(result["ppl"]);
  }
  // Last: its memory tracker wraps the caching allocator installed above.
  if (config.profile.enabled) result["profile"] = run_profile_block(*model, config.profile);
}

}  // namespace

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

void check_run_config(const RunConfig& config) {
  if (config.eval.enabled) eval::validate_task_names(config.eval.tasks, "eval.tasks");
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
  nlohmann::json result = {{"schema_version", kResultSchemaVersion},
                           {"name", config.name},
                           {"config_hash", hash},
                           {"config", config.to_json()},
                           {"started_at", utc_timestamp()}};
  try {
    compute(config, outcome.result_path, options.force, result);
    result["status"] = "ok";
  } catch (const Error& e) {
    result["status"] = "failed";
    result["error"] = {{"category", e.category()}, {"message", e.what()}};
    result["failed_reason"] = std::string(e.category()) + ": " + e.what();
    result["finished_at"] = utc_timestamp();
    write_file_atomically(outcome.result_path, result.dump(2) + "\n");
    throw;
  }
  result["finished_at"] = utc_timestamp();
  write_file_atomically(outcome.result_path, result.dump(2) + "\n");
  outcome.result = std::move(result);
  return outcome;
}

}  // namespace slmq
