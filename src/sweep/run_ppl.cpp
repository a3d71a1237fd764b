#include "slmq/sweep/run_ppl.h"

#include <spdlog/spdlog.h>

#include "slmq/data/data_files.h"
#include "slmq/data/wikitext.h"
#include "slmq/eval/kl_divergence.h"
#include "slmq/eval/token_perplexity.h"
#include "slmq/eval/wiki_corpus.h"
#include "slmq/model/model_tokenizer.h"

namespace slmq {

nlohmann::json run_ppl_block(const Model& model, const Model* baseline,
                             const std::string& model_path, const PplSection& ppl) {
  const eval::WindowSpec windows{ppl.seqlen, ppl.limit_windows, ppl.batch_windows};
  eval::check_windows(windows, model.config(), std::numeric_limits<int64_t>::max());
  const Tokenizer tokenizer = load_model_tokenizer(model_path);
  const eval::TokenCorpus corpus = eval::load_wikitext2_test_corpus(
      data::resolve_data_dir(ppl.data_dir), tokenizer, eval::parse_corpus_bos(ppl.bos, "ppl.bos"));
  nlohmann::json out = {{"corpus", corpus.to_json()}};
  if (baseline == nullptr) {
    const auto r = eval::token_perplexity(model, corpus.ids, windows);
    out["wiki_token_perplexity"] = r.to_json();
    spdlog::info("wiki token perplexity {:.4f} over {} windows of {}", r.ppl, r.windows, r.seqlen);
    return out;
  }
  const auto kl = eval::kl_divergence(
      *baseline, model, corpus.ids,
      {windows, eval::parse_kl_positions(ppl.kl_positions, "ppl.kl_positions")});
  out["wiki_token_perplexity"] = kl.test_ppl.to_json();
  out["baseline_wiki_token_perplexity"] = kl.base_ppl.to_json();
  out["kl_divergence"] = kl.to_json();
  spdlog::info("wiki token perplexity {:.4f} (unquantized {:.4f}), mean KL {:.6f}", kl.test_ppl.ppl,
               kl.base_ppl.ppl, kl.stats.kl_mean.value);
  return out;
}

void check_ppl_data(const PplSection& ppl) {
  eval::parse_corpus_bos(ppl.bos, "ppl.bos");
  data::load_wikitext2_test_rows(data::resolve_data_dir(ppl.data_dir));
}

nlohmann::json wiki_token_ppl_task(const nlohmann::json& ppl_block) {
  return {{"kind", "perplexity"},
          {"metric", "token_perplexity"},
          {"value", ppl_block.at("wiki_token_perplexity").at("ppl")}};
}

}  // namespace slmq
