#pragma once
// One run's result file (schema_version 1), as `slmquant run` writes it and `slmquant report`
// reads it. The JSON layout is documented field by field in docs/result_schema.md; this header is
// its C++ mirror. Optional measurements are std::optional: absent means "not measured", never 0.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace slmq::score {

inline constexpr int kRunSchemaVersion = 1;

struct ModelInfo {
  std::string name;                    // display name, also the grouping key ("SmolLM-135M")
  std::string family;                  // architecture family ("llama", "qwen2", ...); may be empty
  std::optional<std::int64_t> params;  // parameter count
  std::string source;                  // checkpoint path or hub id; may be empty
  std::string dtype;  // compute dtype it ran in ("float32", "bfloat16", ...); may be empty
};

struct QuantInfo {
  std::string method = "none";  // "none" marks an unquantized baseline
  // Display label; defaults to "<method> W<w>A<a>", or for a baseline the dtype it ran in
  // ("FP32", "BF16", "FP16"; "FP16" when model.dtype is absent, as in the published tables).
  std::string label;
  int w_bits = 16;
  int a_bits = 16;
  std::optional<int> kv_bits;
  std::optional<int> group_size;  // per_group weights only; absent: per channel (or tensor)
  bool is_baseline() const { return method == "none"; }
};

enum class TaskKind { kAccuracy, kPerplexity };

struct TaskResult {
  TaskKind kind = TaskKind::kAccuracy;
  std::string metric;                  // "acc", "acc_norm", "exact_match", "word_perplexity", ...
  double value = 0;                    // accuracy as a fraction in [0, 1]; perplexity as is
  std::optional<double> stderr_value;  // as reported by the evaluator (lm-eval's formula)
  std::optional<std::int64_t> n;       // number of scored items (documents)
  std::optional<int> num_fewshot;
  std::vector<std::int8_t> correct;   // per-item 0/1 in document order; empty when not recorded
  std::vector<std::int64_t> doc_ids;  // optional ids aligned with `correct`
};

// Inference measurements at a fixed workload. Units are in the names.
struct Profile {
  std::string device;
  std::optional<int> batch_size;
  std::optional<int> prompt_tokens;
  std::optional<int> output_tokens;      // fixed output length (EOS ignored)
  std::optional<double> latency_ms_p50;  // per request
  std::optional<double> latency_ms_p95;
  std::optional<double> latency_ms_p99;
  std::optional<double> tokens_per_s;  // generated tokens per second at the fixed workload
  std::optional<double> prefill_tokens_per_s;
  std::optional<double> decode_tokens_per_s;
  std::optional<double> peak_memory_mib;  // per-process allocator peak
  std::string memory_kind = "allocator";  // "allocator" | "device_used"
  std::optional<double> model_size_mib;   // stored weights, as deployed
  std::optional<double> gmacs;            // multiply-accumulates of one profiled forward, 1e9
  std::optional<double> energy_j;         // energy of the whole profiling workload
  std::optional<double> energy_tokens;    // tokens generated while energy was measured
  std::optional<bool> energy_idle_subtracted;
  std::optional<int> iterations;
  std::optional<int> warmup;
  // Latency detail written by `slmquant run`'s profile block (ms): time to first token and time
  // per output token, median over the repetitions.
  std::optional<double> ttft_ms_p50;
  std::optional<double> tpot_ms_p50;
};

struct QuantCost {
  std::optional<double> wall_time_s;
  std::optional<double> peak_memory_mib;
  std::string device;
};

struct RunRecord {
  std::filesystem::path path;  // where it was read from (not part of the JSON)
  int schema_version = kRunSchemaVersion;
  std::string run_id;         // optional in the file; empty when absent
  std::string config_hash;    // optional; duplicates with the same hash are merged by the report
  std::string status = "ok";  // "ok" | "failed"
  std::string failed_reason;
  ModelInfo model;
  QuantInfo quant;
  std::map<std::string, TaskResult> tasks;  // eval.tasks, keyed by task name
  Profile profile;
  QuantCost quant_cost;
  nlohmann::json environment = nlohmann::json::object();  // kept verbatim
  std::vector<std::string> unknown_keys;                  // dotted paths, for a warning

  bool ok() const { return status == "ok"; }
};

// Parses one result document. `source` names the file in error messages. Throws DataError naming
// the file and the dotted key for a missing required key, a wrong type or an out-of-range value,
// and for a schema_version other than kRunSchemaVersion. Unknown keys are collected, not errors.
RunRecord parse_run_record(const nlohmann::json& doc, const std::string& source);

// Reads and parses `path`. Throws DataError naming the file (unreadable, not JSON, or as above).
RunRecord load_run_record(const std::filesystem::path& path);

// The record back as JSON in the same layout (used by fixtures and the summary).
nlohmann::json to_json(const RunRecord& record);

}  // namespace slmq::score
