#include "slmq/pipeline/run_shared.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "slmq/core/dtype.h"
#include "slmq/core/timing.h"
#include "slmq/pipeline/model_open.h"

namespace slmq {

struct RunShared::Entry {
  std::string key;  // path | dtype | device
  ModelSource source;
  LoadOptions load;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::shared_ptr<const Model> baseline;
  std::map<std::string, eval::TokenCorpus> corpora;  // data dir | bos
  std::map<std::string, eval::KlBaseCache> kl;       // corpus address | seqlen | batch
};

RunShared::RunShared() = default;
RunShared::~RunShared() = default;

RunModel RunShared::open_model(const RunConfig& config) {
  const c10::Device device = parse_device(config.model.device, "model.device");
  const LoadOptions load{parse_compute_dtype(config.model.dtype, "model.dtype"), device};
  const std::string key =
      fmt::format("{}|{}|{}", config.model.path, config.model.dtype, device.str());
  if (!entry_ || entry_->key != key) {
    fold_kl_counts();
    entry_.reset();  // one model at a time: free the previous one first
    auto e = std::make_unique<Entry>();
    e->key = key;
    e->load = load;
    e->source = slmq::open_model(config.model.path);
    if (!e->source.tokenizer.is_null())
      e->tokenizer = std::make_shared<const Tokenizer>(source_tokenizer(e->source));
    entry_ = std::move(e);
    ++counts_["model_opens"];
  } else {
    ++counts_["model_reuses"];
  }
  std::shared_ptr<const Model> baseline;
  if (config.ppl.kl && config.ppl.baseline.empty()) {
    if (!entry_->baseline) {
      entry_->baseline = build_model(entry_->source.config, *entry_->source.weights, load,
                                     entry_->source.linear_loader.get());
      ++counts_["baseline_builds"];
    } else {
      ++counts_["baseline_reuses"];
    }
    baseline = entry_->baseline;
  }
  return RunModel::from_source(entry_->source, load, std::move(baseline), entry_->tokenizer);
}

const eval::TokenCorpus& RunShared::wikitext(const RunModel& run,
                                             const std::filesystem::path& data_dir,
                                             eval::BosPolicy bos) {
  // Entries belong to the current model: its tokenizer made the ids.
  const std::string key = fmt::format("{}|{}", data_dir.string(), static_cast<int>(bos));
  auto it = entry_->corpora.find(key);
  if (it != entry_->corpora.end()) {
    ++counts_["corpus_reuses"];
    return it->second;
  }
  ++counts_["corpus_loads"];
  return entry_->corpora
      .emplace(key, eval::load_wikitext2_test_corpus(data_dir, *run.tokenizer(), bos))
      .first->second;
}

eval::KlBaseCache& RunShared::kl_cache(const eval::TokenCorpus& corpus,
                                       const eval::WindowSpec& windows) {
  const std::string key = fmt::format("{}|{}|{}", static_cast<const void*>(&corpus), windows.seqlen,
                                      windows.batch_windows);
  return entry_->kl[key];
}

void RunShared::fold_kl_counts() {
  if (!entry_) return;
  for (auto& [key, cache] : entry_->kl) {
    counts_["kl_base_batches_computed"] += cache.misses;
    counts_["kl_base_batches_reused"] += cache.hits;
    cache.misses = cache.hits = 0;
  }
}

nlohmann::json RunShared::stats() {
  fold_kl_counts();
  return counts_;
}

}  // namespace slmq
