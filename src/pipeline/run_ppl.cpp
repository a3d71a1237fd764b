#include "slmq/pipeline/run_ppl.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "slmq/core/timing.h"
#include "slmq/data/data_files.h"
#include "slmq/data/wikitext.h"

namespace slmq {

PplBlockResult run_ppl_block(const RunModel& run, const Model* baseline, const PplSection& ppl,
                             RunShared* shared) {
  const eval::WindowSpec windows{ppl.seqlen, ppl.limit_windows, ppl.batch_windows};
  const Model& model = run.model();
  // The window options first: tokenizing the corpus takes seconds.
  eval::check_windows(windows, model.config(), std::numeric_limits<int64_t>::max());
  const auto positions = eval::parse_kl_positions(ppl.kl_positions, "ppl.kl_positions");
  const auto t0 = SteadyClock::now();
  PplBlockResult out;
  const std::filesystem::path data_dir = data::resolve_data_dir(ppl.data_dir);
  const eval::BosPolicy bos = eval::parse_corpus_bos(ppl.bos, "ppl.bos");
  const eval::TokenCorpus* shared_corpus = shared ? &shared->wikitext(run, data_dir, bos) : nullptr;
  out.corpus = shared_corpus ? *shared_corpus
                             : eval::load_wikitext2_test_corpus(data_dir, *run.tokenizer(), bos);
  spdlog::info("tokenized {} ({} tokens) in {:.2f} s", out.corpus.name, out.corpus.ids.size(),
               seconds_since(t0));
  out.json = {{"corpus", out.corpus.to_json()}};
  if (baseline == nullptr) {
    out.ppl = eval::token_perplexity(model, out.corpus.ids, windows);
    out.json["wiki_token_perplexity"] = out.ppl.to_json();
    spdlog::info("wiki token perplexity {:.4f} over {} windows of {}", out.ppl.ppl, out.ppl.windows,
                 out.ppl.seqlen);
    return out;
  }
  eval::KlDivergenceOptions kl{windows, positions};
  // Only the shared baseline's hidden states are shared (another baseline path is per run).
  if (shared && baseline == run.baseline())
    kl.base_cache = &shared->kl_cache(*shared_corpus, windows);
  out.kl = eval::kl_divergence(*baseline, model, out.corpus.ids, kl);
  out.ppl = out.kl->test_ppl;
  out.json["wiki_token_perplexity"] = out.kl->test_ppl.to_json();
  out.json["baseline_wiki_token_perplexity"] = out.kl->base_ppl.to_json();
  out.json["kl_divergence"] = out.kl->to_json();
  spdlog::info("wiki token perplexity {:.4f} (baseline {:.4f}), mean KL {:.6f}", out.ppl.ppl,
               out.kl->base_ppl.ppl, out.kl->stats.kl_mean.value);
  return out;
}

void check_ppl_data(const PplSection& ppl) {
  eval::parse_corpus_bos(ppl.bos, "ppl.bos");
  eval::parse_kl_positions(ppl.kl_positions, "ppl.kl_positions");
  data::load_wikitext2_test_rows(data::resolve_data_dir(ppl.data_dir));
}

nlohmann::json wiki_token_ppl_task(const nlohmann::json& ppl_block) {
  return {{"kind", "perplexity"},
          {"metric", "token_perplexity"},
          {"value", ppl_block.at("wiki_token_perplexity").at("ppl")}};
}

}  // namespace slmq
