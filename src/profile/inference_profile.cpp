#include "slmq/profile/inference_profile.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <random>
#include <thread>

#include "slmq/config/run_config.h"
#include "slmq/core/dtype.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/model/generate.h"
#include "slmq/model/model.h"
#include "slmq/profile/energy.h"
#include "slmq/profile/memory_tracker.h"
#include "slmq/quant/fake_quant_linear.h"

namespace slmq {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::vector<std::vector<int64_t>> make_prompts(const Model& model, const InferenceWorkload& w) {
  std::mt19937_64 rng(w.seed);
  std::uniform_int_distribution<int64_t> token(0, model.config().vocab_size - 1);
  std::vector<int64_t> prompt(w.prompt_tokens);
  for (auto& t : prompt) t = token(rng);
  // Every row the same prompt: rows of a batch do the same work, as llama-bench's.
  return std::vector<std::vector<int64_t>>(w.batch, prompt);
}

RepetitionTiming run_once(const Model& model, const std::vector<std::vector<int64_t>>& prompts,
                          const InferenceWorkload& w) {
  RepetitionTiming t;
  std::vector<SteadyClock::time_point> stamps;
  stamps.reserve(w.output_tokens);
  GenerateOptions options;
  options.max_new_tokens = w.output_tokens;
  options.stop_at_eos = false;
  options.on_step = [&](const std::vector<std::vector<int64_t>>&) {
    stamps.push_back(SteadyClock::now());
  };
  const auto start = SteadyClock::now();
  greedy_generate(model, prompts, options);
  auto secs = [](SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  if (static_cast<int64_t>(stamps.size()) != w.output_tokens)
    throw InternalError("profile: generation stopped before the fixed output length");
  t.ttft_s = secs(start, stamps.front());
  t.e2e_s = secs(start, stamps.back());
  for (size_t i = 1; i < stamps.size(); ++i) t.itl_s.push_back(secs(stamps[i - 1], stamps[i]));
  return t;
}

// Fills every fake-quant layer's dequantized float copy (its first forward would) and returns
// their bytes: memory the accuracy path holds on top of the stored codes.
int64_t dequantized_cache_bytes(const Model& model) {
  int64_t bytes = 0;
  for (const auto& [name, linear] : model.linears())
    if (const auto* fake = dynamic_cast<const FakeQuantLinear*>(linear))
      bytes += static_cast<int64_t>(fake->dequantized_weight().nbytes());
  return bytes;
}

int64_t kv_cache_bytes(const Model& model, const InferenceWorkload& w) {
  const auto& c = model.config();
  const int64_t slots = w.prompt_tokens + w.output_tokens;
  return 2 * c.num_layers * w.batch * c.num_kv_heads * slots *
         kv_vector_bytes(model.kv_storage(), c.head_dim, model.dtype());
}

// Idle power over a short sleep, for subtracting what the machine draws anyway.
double idle_watts(EnergySource& source) {
  const double before = source.read_joules();
  const auto start = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  return (source.read_joules() - before) / seconds_since(start);
}

std::vector<double> per_rep(const std::vector<RepetitionTiming>& reps,
                            const std::function<double(const RepetitionTiming&)>& f) {
  std::vector<double> out;
  for (const auto& r : reps) out.push_back(f(r));
  return out;
}

}  // namespace

void InferenceWorkload::validate(const std::string& where) const {
  if (prompt_tokens < 1) throw ConfigError(where + ": prompt tokens must be >= 1");
  if (output_tokens < 2)
    throw ConfigError(where + ": output tokens must be >= 2 (TPOT needs a decode step)");
  if (batch < 1) throw ConfigError(where + ": batch size must be >= 1");
  if (repetitions < 1) throw ConfigError(where + ": repetitions must be >= 1");
  if (warmup < 0) throw ConfigError(where + ": warm-up must be >= 0");
}

double RepetitionTiming::prefill_tokens_per_s(const InferenceWorkload& w) const {
  return static_cast<double>(w.batch * w.prompt_tokens) / ttft_s;
}

double RepetitionTiming::decode_tokens_per_s(const InferenceWorkload& w) const {
  return static_cast<double>(w.batch * (w.output_tokens - 1)) / (e2e_s - ttft_s);
}

double RepetitionTiming::tpot_s(const InferenceWorkload& w) const {
  return (e2e_s - ttft_s) / static_cast<double>(w.output_tokens - 1);
}

SampleStats InferenceProfile::ttft_ms() const {
  return summarize(per_rep(repetitions, [](const auto& r) { return r.ttft_s * 1e3; }));
}
SampleStats InferenceProfile::tpot_ms() const {
  return summarize(per_rep(repetitions, [&](const auto& r) { return r.tpot_s(workload) * 1e3; }));
}
SampleStats InferenceProfile::e2e_ms() const {
  return summarize(per_rep(repetitions, [](const auto& r) { return r.e2e_s * 1e3; }));
}
SampleStats InferenceProfile::itl_ms() const {
  std::vector<double> all;
  for (const auto& r : repetitions)
    for (double s : r.itl_s) all.push_back(s * 1e3);
  return summarize(std::move(all));
}
SampleStats InferenceProfile::prefill_tokens_per_s() const {
  return summarize(
      per_rep(repetitions, [&](const auto& r) { return r.prefill_tokens_per_s(workload); }));
}
SampleStats InferenceProfile::decode_tokens_per_s() const {
  return summarize(
      per_rep(repetitions, [&](const auto& r) { return r.decode_tokens_per_s(workload); }));
}

InferenceProfile profile_inference(const Model& model, const InferenceWorkload& workload) {
  workload.validate("profile");
  install_memory_tracker();
  InferenceProfile p;
  p.workload = workload;
  p.device = model.device().str();
  p.threads = at::get_num_threads();
  const ModelSummary summary = model.summary();
  p.model_size_bytes = summary.bytes;
  p.backends = summary.linears_by_kind;
  p.prefill_macs = forward_macs(model, workload.batch, workload.prompt_tokens, 0, true);
  for (int64_t step = 1; step < workload.output_tokens; ++step)
    p.decode_macs +=
        forward_macs(model, workload.batch, 1, workload.prompt_tokens + step - 1, true);

  const auto prompts = make_prompts(model, workload);
  p.memory.dequantized_cache_bytes = dequantized_cache_bytes(model);
  for (int64_t i = 0; i < workload.warmup; ++i) run_once(model, prompts, workload);
  const int64_t live_before = tracked_memory().live_bytes;
  reset_tracked_peak();

  EnergyProbe probe = probe_energy_source(model.device());
  double idle_w = 0;
  if (probe.source) idle_w = idle_watts(*probe.source);
  EnergyMeter meter(probe.source.get());
  meter.start();
  const auto timed_start = SteadyClock::now();
  for (int64_t i = 0; i < workload.repetitions; ++i)
    p.repetitions.push_back(run_once(model, prompts, workload));
  const double timed_s = seconds_since(timed_start);
  if (auto joules = meter.stop()) {
    p.energy_j = *joules - idle_w * timed_s;
    p.energy_idle_subtracted = true;
    p.energy_source = probe.source->name();
  } else {
    p.energy_unavailable = probe.reason;
  }

  p.memory.weights_bytes = summary.bytes;
  p.memory.kv_cache_bytes = kv_cache_bytes(model, workload);
  p.memory.kv_cache_storage = to_string(model.kv_storage());
  const int64_t workload_peak = tracked_memory().peak_bytes - live_before;
  p.memory.workspace_bytes = std::max<int64_t>(0, workload_peak - p.memory.kv_cache_bytes);
  p.memory.allocator_peak_bytes = summary.bytes + p.memory.dequantized_cache_bytes +
                                  p.memory.kv_cache_bytes + p.memory.workspace_bytes;
  p.memory.rss_after_bytes = current_rss_bytes();
  p.memory.rss_peak_process_bytes = peak_rss_bytes_now();
  return p;
}

nlohmann::json InferenceProfile::to_json() const {
  const SampleStats ttft = ttft_ms(), tpot = tpot_ms(), itl = itl_ms(), e2e = e2e_ms();
  const SampleStats prefill = prefill_tokens_per_s(), decode = decode_tokens_per_s();
  const double generated = static_cast<double>(workload.batch * workload.output_tokens);
  nlohmann::json reps = nlohmann::json::array();
  for (const auto& r : repetitions) {
    reps.push_back({{"ttft_ms", r.ttft_s * 1e3},
                    {"e2e_ms", r.e2e_s * 1e3},
                    {"tpot_ms", r.tpot_s(workload) * 1e3},
                    {"prefill_tokens_per_s", r.prefill_tokens_per_s(workload)},
                    {"decode_tokens_per_s", r.decode_tokens_per_s(workload)},
                    {"itl_ms", nlohmann::json::array()}});
    for (double s : r.itl_s) reps.back()["itl_ms"].push_back(s * 1e3);
  }
  nlohmann::json energy = energy_j ? nlohmann::json(*energy_j) : nlohmann::json();
  return {// The schema's summary keys (what `slmquant report` scores).
          {"device", device},
          {"batch_size", workload.batch},
          {"prompt_tokens", workload.prompt_tokens},
          {"output_tokens", workload.output_tokens},
          {"latency_ms_p50", e2e.p50},
          {"latency_ms_p95", e2e.p95},
          {"latency_ms_p99", e2e.p99},
          {"tokens_per_s", generated / (e2e.mean / 1e3)},
          {"prefill_tokens_per_s", prefill.mean},
          {"decode_tokens_per_s", decode.mean},
          {"peak_memory_mib", static_cast<double>(memory.allocator_peak_bytes) / kMiB},
          {"memory_kind", "allocator"},
          {"model_size_mib", static_cast<double>(model_size_bytes) / kMiB},
          {"gmacs", static_cast<double>(prefill_macs.total()) / 1e9},
          {"energy_j", energy},
          {"energy_tokens",
           energy_j ? nlohmann::json(generated * static_cast<double>(repetitions.size()))
                    : nlohmann::json()},
          {"energy_idle_subtracted",
           energy_j ? nlohmann::json(energy_idle_subtracted) : nlohmann::json()},
          {"iterations", static_cast<int64_t>(repetitions.size())},
          {"warmup", workload.warmup},
          {"ttft_ms_p50", ttft.p50},
          {"tpot_ms_p50", tpot.p50},
          // Details.
          {"threads", threads},
          {"seed", workload.seed},
          {"backends", backends},
          {"prefill_tokens_per_s_stddev", prefill.stddev},
          {"decode_tokens_per_s_stddev", decode.stddev},
          {"stats",
           {{"ttft_ms", ttft.to_json()},
            {"tpot_ms", tpot.to_json()},
            {"itl_ms", itl.to_json()},
            {"e2e_ms", e2e.to_json()},
            {"prefill_tokens_per_s", prefill.to_json()},
            {"decode_tokens_per_s", decode.to_json()}}},
          {"memory",
           {{"weights_mib", static_cast<double>(memory.weights_bytes) / kMiB},
            {"dequantized_cache_mib", static_cast<double>(memory.dequantized_cache_bytes) / kMiB},
            {"kv_cache_mib", static_cast<double>(memory.kv_cache_bytes) / kMiB},
            {"kv_cache_storage", memory.kv_cache_storage},
            {"workspace_mib", static_cast<double>(memory.workspace_bytes) / kMiB},
            {"allocator_peak_mib", static_cast<double>(memory.allocator_peak_bytes) / kMiB},
            {"rss_after_mib", static_cast<double>(memory.rss_after_bytes) / kMiB},
            {"rss_peak_process_mib", static_cast<double>(memory.rss_peak_process_bytes) / kMiB}}},
          {"macs",
           {{"prefill", prefill_macs.to_json()},
            {"decode", decode_macs.to_json()},
            {"per_generated_token",
             static_cast<double>(decode_macs.total()) /
                 static_cast<double>(workload.batch * (workload.output_tokens - 1))}}},
          {"energy",
           {{"source", energy_source.empty() ? nlohmann::json() : nlohmann::json(energy_source)},
            {"unavailable_reason",
             energy_unavailable.empty() ? nlohmann::json() : nlohmann::json(energy_unavailable)}}},
          {"repetitions", reps}};
}

nlohmann::json run_profile_block(const Model& model, const ProfileSection& section) {
  const int before = at::get_num_threads();
  if (section.threads > 0) at::set_num_threads(static_cast<int>(section.threads));
  InferenceWorkload w{section.prompt_tokens, section.output_tokens,
                      section.batch_size,    section.iterations,
                      section.warmup,        static_cast<uint64_t>(section.seed)};
  try {
    nlohmann::json j = profile_inference(model, w).to_json();
    at::set_num_threads(before);
    return j;
  } catch (...) {
    at::set_num_threads(before);
    throw;
  }
}

}  // namespace slmq
