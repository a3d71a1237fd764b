// `slmquant quantize MODEL --method rtn|gptq|smoothquant|awq|... --scheme w4a16 --group-size 64
// [--calib c4 --nsamples N --seqlen L --act-order --alpha A ... --set METHOD.KEY=VALUE]
// [--out DIR]`: the flags become a run config's `quant:` block and run the pipeline's quant block
// (pipeline/run_quant.h, as `slmquant run` does): calibration windows when the method needs them,
// quantization in memory, per-layer weight error and the cost (wall time by phase, peak RSS).
// With --out, DIR becomes a compressed-tensors checkpoint (vLLM and transformers load it, so does
// slmquant) holding the run's result.json and the per-layer report quantization.json;
// `--format none` writes those two files alone.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "command.h"
#include "front_end.h"
#include "model_options.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/export/compressed_tensors.h"
#include "slmq/export/gguf_export.h"
#include "slmq/pipeline/run_job.h"
#include "slmq/pipeline/run_quant.h"
#include "slmq/quant/method_registry.h"
#include "slmq/quant/quant_method.h"

namespace slmq::cli {
namespace {

constexpr int64_t kUnset = std::numeric_limits<int64_t>::min();

struct QuantizeArgs {
  ModelOptions model;
  std::string method = "rtn";
  std::string scheme = "w4a16";
  std::optional<int64_t> group_size;
  std::string granularity;
  std::string flavour;
  bool quantize_lm_head = false, quantize_embedding = false;
  std::string out_dir;
  std::string format = "compressed-tensors";
  bool gguf_requantize = false;
  std::string gguf_dense = "f32";
  bool json = false;
  // Calibration (`quant.calibration`), set only when given.
  std::string calib, sampling, propagate;
  int64_t nsamples = kUnset, seqlen = kUnset, seed = kUnset, batch_size = kUnset;
  // GPTQ (`quant.gptq`).
  bool act_order = false, static_groups = false, true_sequential = false;
  int64_t block_size = kUnset;
  double percdamp = 0;
  // SmoothQuant (`quant.smoothquant`) and AWQ (`quant.awq`), set only when given.
  double alpha = -1;
  std::string smooth_variant;
  bool quantize_bmm_input = false, no_awq_clip = false;
  int64_t n_grid = kUnset;
  // `quant.`-relative overrides ("gptq.act_order=true"): every method's options, registered or new.
  std::vector<std::string> overrides;
  // KV cache (`quant.kv`), and the quarot / spinquant options (`quant.<method>`).
  int64_t kv_bits = kUnset, kv_group_size = kUnset;
  bool kv_sym = false, act_asym = false, w_clip = false;
  std::string r1, values, rotation_weights, train_data;
  int64_t steps = kUnset, train_nsamples = kUnset, train_seqlen = kUnset, train_batch = kUnset;
  double lr = -1;
};

// By reference: a copy of a default-constructed YAML::Node does not share the keys added to it.
void set_if(YAML::Node& node, const char* key, int64_t value) {
  if (value != kUnset) node[key] = value;
}

void set_if(YAML::Node& node, const char* key, const std::string& value) {
  if (!value.empty()) node[key] = value;
}

// The options become a `quant:` block, so they are validated exactly as a run config is.
YAML::Node quant_block(const QuantizeArgs& a) {
  YAML::Node q;
  q["method"] = a.method;
  q["scheme"] = a.scheme;
  set_weight_grouping(q, a.group_size, a.granularity);
  if (!a.flavour.empty()) {
    q["weight"]["flavour"] = a.flavour;
    if (a.scheme.find("a16") == std::string::npos) q["activation"]["flavour"] = a.flavour;
  }
  q["quantize_lm_head"] = a.quantize_lm_head;
  if (a.quantize_embedding) q["quantize_embedding"] = true;
  YAML::Node calib;
  set_if(calib, "source", a.calib);
  set_if(calib, "sampling", a.sampling);
  set_if(calib, "propagate", a.propagate);
  set_if(calib, "nsamples", a.nsamples);
  set_if(calib, "seqlen", a.seqlen);
  set_if(calib, "seed", a.seed);
  set_if(calib, "batch_size", a.batch_size);
  if (calib.size() > 0) q["calibration"] = calib;
  YAML::Node gptq;
  if (a.act_order) gptq["act_order"] = true;
  if (a.static_groups) gptq["static_groups"] = true;
  if (a.true_sequential) gptq["true_sequential"] = true;
  set_if(gptq, "block_size", a.block_size);
  if (a.percdamp != 0) gptq["percdamp"] = a.percdamp;
  if (gptq.size() > 0) q["gptq"] = gptq;
  YAML::Node sq;
  if (a.alpha >= 0) sq["alpha"] = a.alpha;
  set_if(sq, "variant", a.smooth_variant);
  if (a.quantize_bmm_input) sq["quantize_bmm_input"] = true;
  if (sq.size() > 0) q["smoothquant"] = sq;
  YAML::Node awq;
  set_if(awq, "n_grid", a.n_grid);
  if (a.no_awq_clip) awq["clip"] = false;
  if (awq.size() > 0) q["awq"] = awq;
  if (a.act_asym && a.scheme.find("a16") == std::string::npos) q["activation"]["symmetric"] = false;
  YAML::Node kv;
  if (a.kv_bits != kUnset) kv["k_bits"] = kv["v_bits"] = a.kv_bits;
  set_if(kv, "group_size", a.kv_group_size);
  if (a.kv_bits != kUnset) kv["symmetric"] = a.kv_sym;
  if (kv.size() > 0) q["kv"] = kv;
  // The rotation flags fill the method's own block (`quant.quarot:` / `quant.spinquant:`).
  YAML::Node rot;
  set_if(rot, "r1", a.r1);
  set_if(rot, "values", a.values);
  set_if(rot, "weights", a.rotation_weights);
  if (a.w_clip) rot["w_clip"] = true;
  set_if(rot, "steps", a.steps);
  set_if(rot, "batch_size", a.train_batch);
  if (a.lr > 0) rot["lr"] = a.lr;
  YAML::Node data;
  set_if(data, "source", a.train_data);
  set_if(data, "nsamples", a.train_nsamples);
  set_if(data, "seqlen", a.train_seqlen);
  if (data.size() > 0) rot["data"] = data;
  if (rot.size() > 0) q[a.method] = rot;
  YAML::Node root;
  root["quant"] = q;
  for (const auto& o : a.overrides) apply_override(root, "quant." + o);
  return root;
}

void print_summary(const QuantReport& r) {
  const nlohmann::json j = r.to_json();
  const auto& s = j["summary"];
  std::cout << fmt::format("method         {}\n", r.method)
            << fmt::format("weights        {}\n", r.config.scheme.weight.describe())
            << fmt::format("activations    {}\n", r.config.scheme.activation
                                                      ? r.config.scheme.activation->describe()
                                                      : std::string("not quantized"))
            << fmt::format("linears        {} quantized (lm_head {})\n", r.layers.size(),
                           r.config.quantize_lm_head ? "quantized" : "full precision")
            << fmt::format("weight error   relative Frobenius mean {:.4g}, max {:.4g}\n",
                           s["mean_relative_error"].get<double>(),
                           s["max_relative_error"].get<double>())
            << fmt::format("linear bytes   {} -> {} (codes packed at their bit width)\n",
                           r.linear_bytes_before, r.linear_bytes_after);
  if (!r.embedding.is_null()) {
    std::cout << fmt::format(
        "embedding      {} bytes -> {} ({}), relative error {:.4g}\n",
        r.embedding["bytes_before"].get<int64_t>(), r.embedding["bytes_after"].get<int64_t>(),
        r.embedding["storage"].get<std::string>(), r.embedding["relative_error"].get<double>());
  }
  for (const auto& [phase, seconds] : r.cost.phase_seconds) {
    std::cout << fmt::format("time {:<14}{:.3f} s\n", phase, seconds);
  }
  std::cout << fmt::format("time {:<14}{:.3f} s\n", "total", r.cost.wall_seconds)
            << fmt::format("peak RSS       {:.1f} MiB\n", r.cost.peak_rss_bytes / 1048576.0);
}

// quantization.json: the method's whole report with loading as its first phase, the model path
// and the environment.
nlohmann::json quantization_json(QuantReport& report, const nlohmann::json& result) {
  const double load_seconds = result.at("model").at("load_seconds").get<double>();
  report.cost.phase_seconds.insert(report.cost.phase_seconds.begin(), {"load", load_seconds});
  report.cost.wall_seconds += load_seconds;
  nlohmann::json j = report.to_json();
  j["model"] = result.at("model").at("path");
  j["environment"] = result.at("environment");
  return j;
}

// FILE.gguf, and beside it FILE.quantization.json: the quantization report with the export's
// (tensor types, exact or requantized, relative errors, notes).
void write_gguf(const QuantizeArgs& args, RunModel& run, nlohmann::json j) {
  const auto t0 = SteadyClock::now();
  GgufExportOptions options;
  options.dense_type = parse_gguf_dense_type(args.gguf_dense, "--gguf-dense");
  options.requantize = args.gguf_requantize;
  const std::filesystem::path out(args.out_dir);
  const GgufExportReport report = export_gguf(run.model(), run.source(), out, options);
  for (const auto& note : report.notes) spdlog::warn("gguf: {}", note);
  j["gguf_export"] = report.to_json();
  std::filesystem::path side = out;
  side.replace_extension(".quantization.json");
  write_file_atomically(side, j.dump(2) + "\n");
  spdlog::info("wrote GGUF {} ({}) and {} in {:.3f} s", out.string(), report.architecture,
               side.string(), seconds_since(t0));
}

int run_quantize(const QuantizeArgs& args) {
  args.model.load_options();  // --dtype and --device errors name the flags
  const RunConfig config = front_end_config(args.model, quant_block(args));
  prepare_run(config);
  nlohmann::json result = begin_result(config);
  std::optional<RunModel> run;
  std::optional<QuantReport> report;
  // The checkpoint folder appears whole or not at all: result.json goes in with it.
  record_run(result, {}, [&](nlohmann::json& r) {
    run.emplace(open_run_model(config, r));
    report = run_quant_block(*run, *config.quant, r);
    r["model"] = model_record(*run, config.model);
  });
  const nlohmann::json j = quantization_json(*report, result);
  const std::map<std::string, std::string> files = {{"quantization.json", j.dump(2) + "\n"},
                                                    {"result.json", result.dump(2) + "\n"}};
  if (!args.out_dir.empty() && args.format == "none") {
    make_directories(args.out_dir);
    for (const auto& [name, content] : files)
      write_file_atomically(std::filesystem::path(args.out_dir) / name, content);
    spdlog::info("wrote {}/quantization.json and result.json", args.out_dir);
  } else if (!args.out_dir.empty() && args.format == "gguf") {
    write_gguf(args, *run, j);
  } else if (!args.out_dir.empty()) {
    const auto t0 = SteadyClock::now();
    export_compressed_tensors(run->model(), run->source(), args.out_dir, files);
    spdlog::info("wrote compressed-tensors checkpoint {} in {:.3f} s", args.out_dir,
                 seconds_since(t0));
  }
  if (args.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    print_summary(*report);
  }
  return 0;
}

const RegisterCommand kQuantize{
    "quantize", "Quantize a model and report error and cost", [](CLI::App& app) {
      auto args = std::make_shared<QuantizeArgs>();
      args->model.device = "cpu";
      args->model.add_to(app);
      app.add_option("--method", args->method, quant_method_list())->capture_default_str();
      app.add_option("--scheme", args->scheme, "w8a8, w4a8, w4a16, w8a16, w4a16_asym, w<b>a<b>")
          ->capture_default_str();
      app.add_option("--group-size", args->group_size, "weight group size (per_group weights)");
      app.add_option("--granularity", args->granularity,
                     "weights: per_channel (one scale per output row), per_group, per_tensor "
                     "(default: the scheme's: per_channel at 8 bits, per_group 128 below)");
      app.add_option("--flavour", args->flavour,
                     "quantizer formulas: gptq, compressed_tensors, quarot, llmc, omniquant, awq "
                     "(default: the method's)");
      app.add_flag("--quantize-lm-head", args->quantize_lm_head, "quantize lm_head too");
      app.add_flag("--quantize-embedding", args->quantize_embedding,
                   "quantize the token-embedding table too, weight-only with the weight spec "
                   "(a tied model needs --quantize-lm-head and shares the head's codes)");
      app.add_option("--calib", args->calib,
                     "calibration text: c4, wikitext2, or a .jsonl / .raw / text file");
      app.add_option("--sampling", args->sampling,
                     "random_windows, random_documents, truncated_documents, packed_documents");
      app.add_option("--nsamples", args->nsamples, "calibration windows (documents)");
      app.add_option("--seqlen", args->seqlen, "tokens per calibration window");
      app.add_option("--seed", args->seed, "calibration sampling seed (Python random)");
      app.add_option("--calib-batch", args->batch_size, "sequences per layer forward");
      app.add_option("--propagate", args->propagate,
                     "next layer inputs from the quantized (default) or original layer");
      app.add_option("--kv-bits", args->kv_bits, "KV-cache bits for keys and values (any method)");
      app.add_option("--kv-group-size", args->kv_group_size,
                     "KV group: -1 (per token) or head_dim");
      app.add_flag("--kv-sym", args->kv_sym, "symmetric KV quantizers (default asymmetric)");
      app.add_flag("--act-asym", args->act_asym, "asymmetric per-token activations");
      app.add_option("--r1", args->r1, "quarot/spinquant R1: random_hadamard, hadamard, random");
      app.add_option("--values", args->values, "quarot/spinquant value rotation: quarot, r2, none");
      app.add_option("--rotation-weights", args->rotation_weights, "quarot/spinquant: gptq or rtn");
      app.add_flag("--w-clip", args->w_clip, "quarot/spinquant: MSE weight-clip search (rtn)");
      app.add_option("--steps", args->steps, "spinquant: Cayley SGD steps (default 100)");
      app.add_option("--lr", args->lr, "spinquant: learning rate (default 1.5, cosine)");
      app.add_option("--train-data", args->train_data,
                     "spinquant training text: c4 (default) or a file (e.g. wikitext-2 train)");
      app.add_option("--train-nsamples", args->train_nsamples, "spinquant training windows");
      app.add_option("--train-seqlen", args->train_seqlen, "spinquant training window tokens");
      app.add_option("--train-batch", args->train_batch, "spinquant global batch (default 8)");
      app.add_flag("--act-order", args->act_order, "gptq: columns by decreasing Hessian diagonal");
      app.add_flag("--static-groups", args->static_groups,
                   "gptq: group parameters from the weight before updates");
      app.add_flag("--true-sequential", args->true_sequential,
                   "gptq: quantize q/k/v, o, gate/up, down in turn with re-captured inputs");
      app.add_option("--block-size", args->block_size, "gptq: columns per lazy update block");
      app.add_option("--percdamp", args->percdamp, "gptq: damping as a fraction of mean diag(H)");
      app.add_option("--alpha", args->alpha, "smoothquant: migration strength (default 0.5)");
      app.add_option("--smooth-variant", args->smooth_variant,
                     "smoothquant: smoothquant (mit-han-lab) or llm_compressor");
      app.add_flag("--quantize-bmm-input", args->quantize_bmm_input,
                   "smoothquant: also fake-quantize the q/k/v outputs per token (8-bit)");
      app.add_option("--n-grid", args->n_grid, "awq: scale ratios and clip steps (default 20)");
      app.add_flag("--no-awq-clip", args->no_awq_clip, "awq: skip the clip search");
      app.add_option("--set", args->overrides,
                     "a quant: key, e.g. gptq.block_size=64 or weight.clip_ratio=0.9 "
                     "(repeatable; any method's options block)");
      app.add_option("--out", args->out_dir,
                     "write the quantized checkpoint (and quantization.json) to DIR (with "
                     "--format gguf: the file FILE.gguf and FILE.quantization.json)");
      app.add_option("--format", args->format,
                     "checkpoint format: compressed-tensors, gguf (llama.cpp), or none "
                     "(quantization.json only)")
          ->check(CLI::IsMember({"compressed-tensors", "gguf", "none"}))
          ->capture_default_str();
      app.add_flag("--gguf-requantize", args->gguf_requantize,
                   "gguf: requantize weights no ggml block stores exactly (Q4_1 / Q8_0) instead "
                   "of refusing");
      app.add_option("--gguf-dense", args->gguf_dense,
                     "gguf: type of the embedding and unquantized linears: f32, f16, bf16")
          ->capture_default_str();
      app.add_flag("--json", args->json, "print the report as JSON");
      return [args] { return run_quantize(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
