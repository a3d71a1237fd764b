// `slmquant ppl MODEL [--seqlen 2048] [--limit-windows N] [--baseline BASE]`: the "Wiki" token
// perplexity of the quantization papers on WikiText-2 test (not lm-eval's wikitext
// word_perplexity), and with --baseline the KL divergence against BASE as llama.cpp reports it.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include "command.h"
#include "model_options.h"
#include "slmq/core/atomic_file.h"
#include "slmq/core/cpu_allocator.h"
#include "slmq/core/environment.h"
#include "slmq/core/timing.h"
#include "slmq/data/data_files.h"
#include "slmq/eval/kl_divergence.h"
#include "slmq/eval/token_perplexity.h"
#include "slmq/eval/wiki_corpus.h"
#include "slmq/model/model_tokenizer.h"
#include "slmq/pipeline/model_open.h"

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

int run_ppl(const PplArgs& args) {
  const auto bos = eval::parse_corpus_bos(args.bos, "--bos");
  const auto positions = eval::parse_kl_positions(args.kl_positions, "--kl-positions");
  const LoadOptions load = args.model.load_options();
  install_caching_cpu_allocator_from_env();
  auto model = load_any_model(args.model.path, load);
  apply_backend_choice(*model, parse_backend_choice(args.model.backend, "--backend"));
  // The window options first: tokenizing the corpus takes seconds.
  eval::check_windows(args.windows, model->config(), std::numeric_limits<int64_t>::max());
  const Tokenizer tokenizer = load_model_tokenizer(args.model.path);
  const auto t0 = SteadyClock::now();
  const eval::TokenCorpus corpus =
      eval::load_wikitext2_test_corpus(data::resolve_data_dir(args.data_dir), tokenizer, bos);
  spdlog::info("tokenized {} ({} tokens) in {:.2f} s", corpus.name, corpus.ids.size(),
               seconds_since(t0));

  nlohmann::json j = {{"model", model_json(args.model.path, *model)},
                      {"corpus", corpus.to_json()},
                      {"environment", environment_info(model->device())}};
  eval::TokenPerplexityResult ppl;
  std::optional<eval::KlDivergenceResult> kl;
  if (args.baseline.empty()) {
    ppl = eval::token_perplexity(*model, corpus.ids, args.windows);
  } else {
    LoadOptions base_load = load;
    if (!args.baseline_dtype.empty())
      base_load.dtype = parse_compute_dtype(args.baseline_dtype, "--baseline-dtype");
    auto base = load_any_model(args.baseline, base_load);
    kl = eval::kl_divergence(*base, *model, corpus.ids, {args.windows, positions});
    ppl = kl->test_ppl;
    j["baseline"] = model_json(args.baseline, *base);
    j["kl_divergence"] = kl->to_json();
  }
  j["wiki_token_perplexity"] = ppl.to_json();
  if (!args.out_dir.empty()) {
    std::filesystem::create_directories(args.out_dir);
    const auto path = std::filesystem::path(args.out_dir) / "ppl.json";
    write_file_atomically(path, j.dump(2) + "\n");
    spdlog::info("wrote {}", path.string());
  }
  if (args.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  print_ppl(ppl, corpus, args.model.path, kl ? "one pass running both models" : "this model");
  if (kl) print_kl(*kl, args.baseline);
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
