// `slmquant bench MODEL [--scheme w8a8 [--group-size 64 | --granularity per_channel]
// --quantize-lm-head] [--backend auto] --pp 512 --tg 128 --batch 1,4 --threads 1,2 --reps 5 [--json
// FILE]`: the inference profile (profile/inference_profile.h) of every batch × threads combination,
// printed as a llama-bench style table (tokens/s as mean ± sample stddev over the repetitions) with
// TTFT, TPOT and memory, and written as JSON. A scheme quantizes the loaded model with RTN first; a
// compressed-tensors checkpoint is already quantized.
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "front_end.h"
#include "model_options.h"
#include "slmq/config/config_node.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/environment.h"
#include "slmq/core/error.h"
#include "slmq/profile/inference_profile.h"
#include "slmq/quant/backends/backend_choice.h"
#include "slmq/quant/embedding_quant.h"
#include "slmq/quant/quant_method.h"

namespace slmq::cli {
namespace {

struct BenchArgs {
  ModelOptions model;
  std::string scheme;
  std::optional<int64_t> group_size;  // unset: the scheme's default
  std::string granularity;
  bool quantize_lm_head = false, quantize_embedding = false;
  int64_t pp = 512, tg = 128, reps = 5, warmup = 1;
  std::vector<int64_t> batch{1};
  std::vector<int> threads;
  uint64_t seed = 0;
  std::string json_path;
};

QuantConfig rtn_config(const BenchArgs& a) {
  YAML::Node q;
  q["method"] = "rtn";
  q["scheme"] = a.scheme;
  set_weight_grouping(q, a.group_size, a.granularity);
  q["quantize_lm_head"] = a.quantize_lm_head;
  q["quantize_embedding"] = a.quantize_embedding;
  return parse_quant_section(ConfigNode(q, "quant"));
}

std::string mean_sd(const SampleStats& s, int precision) {
  return fmt::format("{:.{}f} ± {:.{}f}", s.mean, precision, s.stddev, precision);
}

void print_header() {
  std::cout << "| backend | size MiB | threads | batch | test | t/s | TTFT ms p50 | TPOT ms p50 "
               "| ITL ms p99 | peak MiB |\n"
            << "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|\n";
}

void print_rows(const std::string& backend, const InferenceProfile& p) {
  const double size = static_cast<double>(p.model_size_bytes) / 1048576.0;
  const double peak = static_cast<double>(p.memory.allocator_peak_bytes) / 1048576.0;
  const auto& w = p.workload;
  std::cout << fmt::format("| {} | {:.1f} | {} | {} | pp{} | {} | {:.1f} | | | {:.1f} |\n", backend,
                           size, p.threads, w.batch, w.prompt_tokens,
                           mean_sd(p.prefill_tokens_per_s(), 1), p.ttft_ms().p50, peak)
            << fmt::format("| {} | {:.1f} | {} | {} | tg{} | {} | | {:.2f} | {:.2f} | {:.1f} |\n",
                           backend, size, p.threads, w.batch, w.output_tokens,
                           mean_sd(p.decode_tokens_per_s(), 2), p.tpot_ms().p50, p.itl_ms().p99,
                           peak)
            << std::flush;
}

std::string backend_label(const nlohmann::json& kinds) {
  std::string out;
  for (const auto& [kind, n] : kinds.items()) out += (out.empty() ? "" : "+") + kind;
  return out;
}

int run_bench(const BenchArgs& args) {
  const BackendChoice choice = parse_backend_choice(args.model.backend, "--backend");
  if (args.threads.empty()) throw ConfigError("--threads: give at least one count");
  // Freed activation blocks are reused, as in evaluation; the tracker counts on top of it.
  install_caching_cpu_allocator_from_env();
  auto model = load_any_model(args.model.path, args.model.load_options());
  model->set_kv_storage(parse_kv_storage(args.model.kv_cache, "--kv-cache"));
  nlohmann::json out = {{"model", args.model.path},
                        {"dtype", args.model.dtype},
                        {"environment", environment_info(model->device())}};
  if (!args.scheme.empty()) {
    QuantConfig q = rtn_config(args);
    QuantReport report = make_quant_method("rtn")->run(*model, q, nullptr);
    quantize_embedding(*model, q);
    out["quant"] = report.to_json()["config"];
    spdlog::info("quantized with rtn {} in {:.2f} s", args.scheme, report.cost.wall_seconds);
  }
  const BackendReport backends = apply_backend_choice(*model, choice);
  out["backend"] = backends.to_json();
  for (const auto& [name, reason] : backends.kept_fake)
    spdlog::warn("{} stays on the fake-quant path: {}", name, reason);
  const std::string label = backend_label(backends.to_json()["linears_by_kind"]);
  out["runs"] = nlohmann::json::array();
  print_header();
  for (int threads : args.threads) {
    at::set_num_threads(threads);
    for (int64_t batch : args.batch) {
      InferenceWorkload w{args.pp, args.tg, batch, args.reps, args.warmup, args.seed};
      InferenceProfile p = profile_inference(*model, w);
      print_rows(label, p);
      out["runs"].push_back(p.to_json());
    }
  }
  if (!args.json_path.empty()) {
    write_file_atomically(args.json_path, out.dump(2) + "\n");
    spdlog::info("wrote {}", args.json_path);
  }
  return 0;
}

const RegisterCommand kBench{
    "bench", "Inference speed, latency, memory, MACs and energy at a fixed workload",
    [](CLI::App& app) {
      auto args = std::make_shared<BenchArgs>();
      args->model.device = "cpu";
      args->threads = {at::get_num_threads()};
      args->model.add_to(app);
      app.add_option("--scheme", args->scheme,
                     "quantize with RTN first: w8a8, w4a8, w8a16, w4a16, w<b>a<b>[_asym]");
      app.add_option("--group-size", args->group_size,
                     "weight group size (per_group weights; default: the scheme's)");
      app.add_option("--granularity", args->granularity,
                     "weights: per_channel, per_group or per_tensor (default: the scheme's)");
      app.add_flag("--quantize-lm-head", args->quantize_lm_head, "quantize lm_head too");
      app.add_flag("--quantize-embedding", args->quantize_embedding,
                   "quantize the token-embedding table too (weight spec of the scheme; a tied "
                   "model needs --quantize-lm-head and shares the head's codes)");
      app.add_option("--pp", args->pp, "prompt tokens per row")->capture_default_str();
      app.add_option("--tg", args->tg, "generated tokens per row, EOS ignored")
          ->capture_default_str();
      app.add_option("--batch", args->batch, "batch sizes, each run in turn")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--threads", args->threads, "intra-op thread counts, each run in turn")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--reps", args->reps, "timed repetitions")->capture_default_str();
      app.add_option("--warmup", args->warmup, "untimed repetitions first")->capture_default_str();
      app.add_option("--seed", args->seed, "seed of the prompt's token ids")->capture_default_str();
      app.add_option("--json", args->json_path, "write every run's profile block here");
      return [args] { return run_bench(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
