#pragma once
// The inference measurement behind `slmquant bench` and a run config's `profile:` block: a fixed
// workload (prompt and output lengths, EOS ignored, batch size), warm-up repetitions, then N timed
// repetitions; per repetition TTFT, inter-token latencies, end-to-end latency and the phase
// throughputs; aggregated as mean ± sample stddev (llama-bench's way) and percentiles of the real
// samples; memory by kind, model size, analytic MACs and energy (null with the reason where no
// counter exists). The JSON is the result file's `profile` block (docs/result_schema.md).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "slmq/profile/macs.h"
#include "slmq/profile/sample_stats.h"

namespace slmq {

class Model;

struct InferenceWorkload {
  int64_t prompt_tokens = 512;  // per row
  int64_t output_tokens = 128;  // per row, EOS ignored
  int64_t batch = 1;
  int64_t repetitions = 5;
  int64_t warmup = 1;
  uint64_t seed = 0;  // the prompt's token ids are drawn from it (uniform over the vocabulary)

  // Throws ConfigError naming `where` for non-positive lengths, batch or repetitions.
  void validate(const std::string& where) const;
};

// One timed repetition of the whole workload (all rows at once).
struct RepetitionTiming {
  double ttft_s = 0;          // prompt in, first new token of every row out
  double e2e_s = 0;           // prompt in, last token out
  std::vector<double> itl_s;  // output_tokens − 1 gaps between successive tokens
  double energy_j = 0;        // when measured

  double prefill_tokens_per_s(const InferenceWorkload& w) const;
  double decode_tokens_per_s(const InferenceWorkload& w) const;  // rows × (n − 1) / (E2E − TTFT)
  double tpot_s(const InferenceWorkload& w) const;               // (E2E − TTFT) / (n − 1)
};

struct MemoryByKind {
  int64_t weights_bytes = 0;  // true storage of every weight (packed codes, scales, ...)
  // Float copies the fake-quant path keeps of its dequantized weights (0 on real backends).
  int64_t dequantized_cache_bytes = 0;
  std::string kv_cache_storage = "float";  // KvStorage: "float" (compute dtype) or "int8"
  int64_t kv_cache_bytes = 0;   // the KV cache tensors of the workload (capacity prompt + output)
  int64_t workspace_bytes = 0;  // activations and scratch: the allocator peak during the timed
                                // repetitions above what was live before them, minus the KV cache
  int64_t allocator_peak_bytes = 0;    // the sum of the four above
  int64_t rss_after_bytes = 0;         // resident set after the workload
  int64_t rss_peak_process_bytes = 0;  // getrusage peak of the whole process (loading included)
};

struct InferenceProfile {
  InferenceWorkload workload;
  std::string device;
  int threads = 1;
  std::vector<RepetitionTiming> repetitions;
  MemoryByKind memory;
  int64_t model_size_bytes = 0;
  MacCount prefill_macs;           // the prompt forward (head on each row's last position)
  MacCount decode_macs;            // all output_tokens − 1 decode steps together
  std::optional<double> energy_j;  // whole timed workload (all repetitions), idle subtracted
  bool energy_idle_subtracted = false;
  std::string energy_source;       // what measured it, or empty
  std::string energy_unavailable;  // why energy_j is null
  nlohmann::json backends;         // linears by backend kind

  SampleStats ttft_ms() const;
  SampleStats tpot_ms() const;
  SampleStats itl_ms() const;  // every inter-token gap of every repetition
  SampleStats e2e_ms() const;
  SampleStats prefill_tokens_per_s() const;
  SampleStats decode_tokens_per_s() const;

  // The `profile` block: the schema's summary keys (tokens_per_s, latency_ms_p50, ...,
  // peak_memory_mib, memory_kind "allocator", model_size_mib, gmacs, energy_j) and the details
  // (per-repetition samples, stats, memory by kind, MACs, energy source or reason).
  nlohmann::json to_json() const;
};

// Runs the workload on `model` with the current intra-op thread count. Installs the memory
// tracker (profile/memory_tracker.h) if needed: install slmq's caching CPU allocator before, if
// it is wanted at all.
InferenceProfile profile_inference(const Model& model, const InferenceWorkload& workload);

struct ProfileSection;
// The run config's `profile:` block on `model`: sets the thread count it names (restored after)
// and returns InferenceProfile::to_json().
nlohmann::json run_profile_block(const Model& model, const ProfileSection& section);

}  // namespace slmq
