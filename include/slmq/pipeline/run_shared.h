#pragma once
// Work shared by the runs of one process (the cells of a sweep), computed once and reused
// read-only, each piece exactly what a run on its own computes:
// - a model path opened once (weights mapped, config and tokenizer parsed, tokenizer built); each
//   run still gets a freshly built model, since quantization changes it in place;
// - the unquantized baseline model a KL measurement compares against, built once;
// - the tokenized WikiText-2 test corpus, per tokenizer, data dir and BOS policy;
// - the baseline's final hidden states on the KL windows (eval::KlBaseCache), per corpus and
//   window spec.
// One model is kept at a time: a run of another model path, dtype or device replaces it (grids
// list a model's cells together), which bounds the memory to one model's worth.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "slmq/config/run_config.h"
#include "slmq/eval/kl_divergence.h"
#include "slmq/eval/wiki_corpus.h"
#include "slmq/pipeline/run_model.h"

namespace slmq {

class RunShared {
 public:
  RunShared();
  ~RunShared();
  RunShared(const RunShared&) = delete;
  RunShared& operator=(const RunShared&) = delete;

  // A fresh model of config.model built from the shared open source; run.baseline() is the shared
  // unquantized model when config.ppl asks for KL against it. Throws what RunModel::open throws.
  RunModel open_model(const RunConfig& config);
  // load_wikitext2_test_corpus for `run`'s tokenizer, once per data dir and BOS policy.
  const eval::TokenCorpus& wikitext(const RunModel& run, const std::filesystem::path& data_dir,
                                    eval::BosPolicy bos);
  // The KL base cache for the current model's baseline on `corpus` with these windows.
  eval::KlBaseCache& kl_cache(const eval::TokenCorpus& corpus, const eval::WindowSpec& windows);

  // How often each piece was computed and reused (absent: never): model_opens, model_reuses,
  // baseline_builds, baseline_reuses, corpus_loads, corpus_reuses, kl_base_batches_computed,
  // kl_base_batches_reused.
  nlohmann::json stats();

 private:
  struct Entry;
  void fold_kl_counts();
  std::unique_ptr<Entry> entry_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace slmq
