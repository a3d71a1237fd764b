// `slmquant ppl MODEL [--seqlen 2048] [--limit-windows N] [--baseline BASE] [--out DIR]`: the
// "Wiki" token perplexity of the quantization papers on WikiText-2 test (not lm-eval's wikitext
// word_perplexity), and with --baseline the KL divergence against BASE as llama.cpp reports it,
// through the pipeline's ppl block (pipeline/run_ppl.h, as `slmquant run`'s ppl: block). With
// --out, writes DIR/result.json (the run result layout) and DIR/ppl.json.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "command.h"
#include "front_end.h"
#include "model_options.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/dtype.h"
#include "slmq/pipeline/run_job.h"
#include "slmq/pipeline/run_ppl.h"

namespace slmq::cli {
namespace {

struct PplArgs {
  ModelOptions model;
  eval::WindowSpec windows;
  std::string bos = "default";
  std::string data_dir;
  std::string baseline;
  std::string baseline_dtype;  // empty: --dtype
  std::string kl_positions = "second-half";
  std::string out_dir;
  bool json = false;
};

nlohmann::json model_json(const std::string& path, const Model& model) {
  return {{"path", path},
          {"dtype", dtype_name(model.dtype())},
          {"device", model.device().str()},
          {"architecture", model.config().architecture}};
}

// `pass` says what the timing covers: the model alone, or the KL pass over both models.
void print_ppl(const eval::TokenPerplexityResult& r, const eval::TokenCorpus& corpus,
               const std::string& model_path, const char* pass) {
  const int64_t total_windows = static_cast<int64_t>(corpus.ids.size()) / r.seqlen;
  std::cout << fmt::format(
                   "wiki token perplexity (non-overlapping {}-token windows of WikiText-2 test "
                   "joined with \"\\n\\n\", as GPTQ/AWQ/SmoothQuant report 'Wiki'; not lm-eval's "
                   "wikitext word_perplexity)\n",
                   r.seqlen)
            << fmt::format("model         {}\n", model_path)
            << fmt::format("corpus        {} rows, {} bytes, {} tokens (BOS: {})\n", corpus.rows,
                           corpus.text_bytes, corpus.ids.size(), eval::bos_policy_name(corpus.bos))
            << fmt::format(
                   "windows       {} x {} tokens of {} ({} predictions; the last {} "
                   "tokens fill no window)\n",
                   r.windows, r.seqlen, total_windows, r.predictions,
                   static_cast<int64_t>(corpus.ids.size()) - total_windows * r.seqlen)
            << fmt::format("ppl           {:.4f}   (mean NLL {:.6f} nats/token)\n", r.ppl, r.nll)
            << fmt::format("time          {:.2f} s, {:.1f} tokens/s ({})\n", r.seconds,
                           r.tokens_per_second, pass);
}

void print_kl(const eval::KlDivergenceResult& r, const std::string& baseline) {
  const auto& s = r.stats;
  const auto vu = [](const eval::ValueWithUncertainty& v, double scale = 1.0) {
    return fmt::format("{:10.6f} ± {:10.6f}", v.value * scale, v.uncertainty * scale);
  };
  std::cout << fmt::format(
                   "\nKL divergence vs baseline {} (llama.cpp --kl-divergence statistics; "
                   "logits {}..{} of each window: {} positions)\n",
                   baseline, r.first_scored_logit, r.test_ppl.seqlen - 2, s.count)
            << fmt::format("baseline wiki token ppl {:.4f} (same windows, all positions)\n",
                           r.base_ppl.ppl)
            << fmt::format("Mean PPL(Q)                   : {}\n", vu(s.ppl_test))
            << fmt::format("Mean PPL(base)                : {}\n", vu(s.ppl_base))
            << fmt::format("Cor(ln(PPL(Q)), ln(PPL(base))): {:6.2f}%\n", 100 * s.ln_ppl_correlation)
            << fmt::format("Mean ln(PPL(Q)/PPL(base))     : {}\n", vu(s.ln_ppl_ratio))
            << fmt::format("Mean PPL(Q)/PPL(base)         : {}\n", vu(s.ppl_ratio))
            << fmt::format("Mean PPL(Q)-PPL(base)         : {}\n", vu(s.ppl_diff))
            << fmt::format("Mean    KLD: {}\n", vu(s.kl_mean))
            << fmt::format("Maximum KLD: {:10.6f}\n", s.kl_max);
  for (const char* p : {"p99.9", "p99", "p95", "p90"})
    std::cout << fmt::format("{:<7} KLD: {:10.6f}\n", p, s.kl_percentiles.at(p));
  std::cout << fmt::format("Median  KLD: {:10.6f}\n", s.kl_median);
  for (const char* p : {"p10", "p5", "p1"})
    std::cout << fmt::format("{:<7} KLD: {:10.6f}\n", p, s.kl_percentiles.at(p));
  std::cout << fmt::format("Minimum KLD: {:10.6f}\n", s.kl_min)
            << fmt::format("RMS Δp     : {:6.3f} ± {:5.3f} %\n", 100 * s.p_diff_rms.value,
                           100 * s.p_diff_rms.uncertainty)
            << fmt::format("Same top p : {:6.3f} ± {:5.3f} %\n", 100 * s.same_top_fraction.value,
                           100 * s.same_top_fraction.uncertainty)
            << fmt::format("time          {:.2f} s (both models)\n", r.seconds);
}

// The flags as a run config's `ppl:` block (bos and kl_positions already checked under their
// flags).
YAML::Node ppl_block(const PplArgs& args) {
  YAML::Node p;
  p["seqlen"] = args.windows.seqlen;
  p["limit_windows"] = args.windows.max_windows;
  p["batch_windows"] = args.windows.batch_windows;
  p["bos"] = args.bos;
  if (!args.data_dir.empty()) p["data_dir"] = args.data_dir;
  p["kl_positions"] = args.kl_positions;
  if (!args.baseline.empty()) p["baseline"] = args.baseline;
  if (!args.baseline_dtype.empty()) p["baseline_dtype"] = args.baseline_dtype;
  YAML::Node root;
  root["ppl"] = p;
  return root;
}

int run_ppl(const PplArgs& args) {
  eval::parse_corpus_bos(args.bos, "--bos");
  eval::parse_kl_positions(args.kl_positions, "--kl-positions");
  args.model.load_options();  // --dtype, --device and --backend errors name the flags
  parse_backend_choice(args.model.backend, "--backend");
  if (!args.baseline_dtype.empty()) parse_compute_dtype(args.baseline_dtype, "--baseline-dtype");
  const RunConfig config = front_end_config(args.model, ppl_block(args));
  prepare_run(config);
  install_caching_cpu_allocator_from_env();
  if (!args.out_dir.empty()) make_directories(args.out_dir);
  nlohmann::json result = begin_result(config);
  std::optional<PplBlockResult> ppl;
  nlohmann::json j;  // ppl.json
  record_run(result, front_end_result_path(args.out_dir), [&](nlohmann::json& r) {
    RunModel run = open_run_model(config, r);
    r["backend"] = apply_run_backend(run, config.model);
    const std::unique_ptr<Model> base = open_ppl_baseline(config, run);
    r["model"] = model_record(run, config.model);
    ppl = run_ppl_block(run, base.get(), config.ppl);
    r["ppl"] = ppl->json;
    if (base) r["ppl"]["baseline"] = model_json(args.baseline, *base);
    r["eval"]["tasks"]["wiki_token_ppl"] = wiki_token_ppl_task(r["ppl"]);
    j = {{"model", model_json(args.model.path, run.model())},
         {"corpus", ppl->json["corpus"]},
         {"environment", r["environment"]}};
    if (base) {
      j["baseline"] = r["ppl"]["baseline"];
      j["kl_divergence"] = ppl->json["kl_divergence"];
    }
    j["wiki_token_perplexity"] = ppl->json["wiki_token_perplexity"];
  });
  if (!args.out_dir.empty()) {
    const auto path = std::filesystem::path(args.out_dir) / "ppl.json";
    write_file_atomically(path, j.dump(2) + "\n");
    spdlog::info("wrote {} and result.json", path.string());
  }
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  print_ppl(ppl->ppl, ppl->corpus, args.model.path,
            ppl->kl ? "one pass running both models" : "this model");
  if (ppl->kl) print_kl(*ppl->kl, args.baseline);
  return 0;
}

const RegisterCommand kPpl{
    "ppl",
    "WikiText-2 token perplexity ('Wiki' of GPTQ/AWQ/SmoothQuant) and KL divergence vs a baseline",
    [](CLI::App& app) {
      auto args = std::make_shared<PplArgs>();
      args->model.add_to(app);
      app.add_option("--seqlen", args->windows.seqlen, "tokens per non-overlapping window")
          ->capture_default_str();
      app.add_option("--limit-windows", args->windows.max_windows,
                     "score only the first N windows (0: all)")
          ->capture_default_str();
      app.add_option("--batch-windows", args->windows.batch_windows, "windows per forward")
          ->capture_default_str();
      app.add_option("--bos", args->bos,
                     "BOS before the corpus: default (as tokenizer(text) does), always, never")
          ->capture_default_str();
      app.add_option("--data-dir", args->data_dir,
                     "data directory with wikitext2/ (default $SLMQ_DATA_DIR or assets/data)");
      app.add_option("--baseline", args->baseline,
                     "baseline model (HF folder or .gguf): adds KL(baseline || MODEL) statistics");
      app.add_option("--baseline-dtype", args->baseline_dtype,
                     "compute dtype of the baseline (default: --dtype)");
      app.add_option("--kl-positions", args->kl_positions,
                     "scored positions per window: second-half (llama.cpp) or all")
          ->capture_default_str();
      app.add_option("--out", args->out_dir, "write DIR/ppl.json");
      app.add_flag("--json", args->json, "print the result as JSON");
      return [args] { return run_ppl(*args); };
    }};

}  // namespace
}  // namespace slmq::cli
