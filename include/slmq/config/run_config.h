#pragma once
// The typed form of a run config (configs/*.yaml), validated once at load: unknown keys, wrong
// types and bad values are ConfigErrors naming the key path.
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "slmq/quant/quant_spec.h"

namespace slmq {

struct ModelSection {
  std::string path;  // HF checkpoint folder or .gguf (relative: to the working directory)
  std::string name;  // display and report grouping name; default: the path's stem
  std::string dtype = "float32";  // compute dtype
  std::string device = "auto";    // cpu | cuda | cuda:N | auto
  // Quantized linears: fake (dequantize, float matmul), real (integer kernels; an error where a
  // layer has none), auto (real where one exists). quant/backends/backend_choice.h.
  std::string backend = "auto";
  // KV-cache storage of generation and profiling: float (the compute dtype) or int8 (packed
  // codes, a scale per 32 elements; model/kv_cache.h).
  std::string kv_cache = "float";
};

struct GenerateSection {
  bool enabled = false;
  std::string prompt;  // text, tokenized with the model's tokenizer; or
  std::vector<int64_t> prompt_ids;
  int64_t max_new_tokens = 32;
  bool stop_at_eos = true;
};

// lm-eval-faithful evaluation after the model is loaded (docs/eval.md).
struct EvalSection {
  bool enabled = false;  // true when `tasks` is given
  // arc_easy, arc_challenge, piqa, hellaswag, mmlu, wikitext, gsm8k: checked by the pipeline
  // (check_run_config), which knows the tasks; the config module does not.
  std::vector<std::string> tasks;
  int64_t num_fewshot = -1;     // -1: each task's default
  int64_t limit = 0;            // 0: all docs; else the first N (per MMLU subject)
  std::string data_dir;         // empty: $SLMQ_DATA_DIR, else assets/data
  std::string bos = "default";  // default | always | never
  int64_t batch_tokens = 0;     // 0: chosen from free memory
  bool log_samples = false;     // per-item JSONL beside the result file
  int64_t max_length = 0;       // context length; 0: lm-eval's rule from config.json
  // Items sharing a few-shot stem (MMLU) are computed together in groups up to this many tokens;
  // 0: each alone; -1: the evaluator's default. Changes speed, not results.
  int64_t stem_merge_width = -1;
};

// The "Wiki" token perplexity of the quantization papers on WikiText-2 test, and with `kl` the KL
// divergence of the quantized model against the same model before quantization (docs/eval.md).
struct PplSection {
  bool enabled = false;         // true when the `ppl:` block is present
  int64_t seqlen = 2048;        // tokens per non-overlapping window
  int64_t limit_windows = 0;    // 0: every window
  int64_t batch_windows = 1;    // windows per forward
  std::string bos = "default";  // default | always | never
  std::string data_dir;         // empty: $SLMQ_DATA_DIR, else assets/data
  bool kl = false;              // needs `quant:`; the baseline is the unquantized model
  std::string kl_positions = "second-half";  // second-half (llama.cpp) | all
  // KL against another model (HF folder or .gguf) instead of the unquantized one; implies kl.
  std::string baseline;
  std::string baseline_dtype;  // compute dtype of `baseline`; empty: model.dtype
};

// The inference profile (profile/inference_profile.h) written as the result's `profile` block.
struct ProfileSection {
  bool enabled = false;  // true when the `profile:` block is present
  int64_t prompt_tokens = 512;
  int64_t output_tokens = 128;  // EOS ignored
  int64_t batch_size = 1;
  int64_t iterations = 5;  // timed repetitions
  int64_t warmup = 1;
  int64_t threads = 0;  // intra-op threads; 0: torch's default
  int64_t seed = 0;     // of the prompt's token ids
};

struct OutputSection {
  std::string dir = "results";
};

struct RunConfig {
  std::string name;  // result file stem; defaults to the config file's stem
  int64_t seed = 0;
  ModelSection model;
  GenerateSection generate;
  EvalSection eval;
  PplSection ppl;
  ProfileSection profile;
  OutputSection output;
  std::optional<QuantConfig> quant;  // `quant:` block; none = the full-precision model

  nlohmann::json to_json() const;
  // Stable across runs and machines: identifies a run for resuming (FNV-1a of to_json()).
  std::string hash() const;
};

// Reads `path`, applies `overrides` ("key.path=value", value parsed as YAML) and validates.
RunConfig load_run_config(const std::filesystem::path& path,
                          const std::vector<std::string>& overrides);

// Validates an already-parsed document; `default_name` is used when `name` is absent.
RunConfig parse_run_config(const YAML::Node& root, const std::string& default_name);

// Sets root[a][b]... = value for "a.b...=value", creating mappings on the way.
void apply_override(YAML::Node& root, const std::string& assignment);

}  // namespace slmq
