#pragma once
// One run: a validated RunConfig in, one strict-JSON result file out (written atomically,
// pipeline/run_result.h). The model is opened once (RunModel) and passed to each block: quant →
// backend → generate → eval → ppl → profile. A result whose config hash matches and whose status is
// "ok" is not recomputed, so an interrupted sweep resumes where it stopped.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

#include "slmq/config/run_config.h"
#include "slmq/pipeline/run_model.h"
#include "slmq/pipeline/run_result.h"
#include "slmq/pipeline/run_shared.h"

namespace slmq {

struct RunOptions {
  std::optional<std::filesystem::path> out_dir;  // overrides output.dir
  bool force = false;                            // recompute even when a result is up to date
  // Work shared with the other runs of this process (a sweep's cells, pipeline/run_shared.h);
  // null: the run opens, tokenizes and computes everything itself.
  RunShared* shared = nullptr;
};

struct RunOutcome {
  std::filesystem::path result_path;
  bool reused = false;  // an up-to-date result was found and kept
  nlohmann::json result;
};

std::filesystem::path result_path_for(const RunConfig& config, const RunOptions& options);
// Where eval.log_samples puts per-item files: <result stem>.samples/ beside the result.
std::filesystem::path samples_dir_for(const std::filesystem::path& result_path);
// <result stem>.journal beside the result file: the eval block's journals (eval_journal.h).
std::filesystem::path journal_dir_for(const std::filesystem::path& result_path);

// What the config module cannot check: the eval task names (ConfigError naming eval.tasks and
// the known tasks). run_job calls it before anything is computed or written.
void check_run_config(const RunConfig& config);

// Reads the data every block needs (eval tasks, WikiText-2) and seeds torch, so that a missing
// file fails before the model is loaded and quantized. Front ends call it too.
void prepare_run(const RunConfig& config);

// Opens config.model once (with the unquantized copy a KL baseline needs), sets
// result["environment"], and returns the opened model; with `shared`, builds it from the shared
// open source and shares the baseline.
RunModel open_run_model(const RunConfig& config, nlohmann::json& result,
                        RunShared* shared = nullptr);

// Puts run.model()'s quantized linears on model.backend's kernels (quant/backends/
// backend_choice.h) and returns the result's "backend" record. After quantization, before any
// forward that is measured.
nlohmann::json apply_run_backend(RunModel& run, const ModelSection& model);

// The model of ppl.baseline (another path, in ppl.baseline_dtype or model.dtype, on the run's
// device), or null when the config names none (a KL baseline is then run.baseline()).
std::unique_ptr<Model> open_ppl_baseline(const RunConfig& config, const RunModel& run);

// result["generate"]: greedy generation from the generate section's prompt (text through the
// run's tokenizer, or ids) with prefill/decode speed.
nlohmann::json run_generate_block(const RunModel& run, const GenerateSection& generate);

// Runs the job. On a slmquant error the result file records status "failed" with the reason,
// then the error propagates.
RunOutcome run_job(const RunConfig& config, const RunOptions& options);

}  // namespace slmq
