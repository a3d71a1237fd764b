#pragma once
// The `ppl:` block of a run, and the one way slmquant measures the "Wiki" token perplexity on
// WikiText-2 test (`slmquant run` and `slmquant ppl` both call it): with a baseline model, the KL
// divergence against it as llama.cpp reports it.
#include <nlohmann/json.hpp>

#include <optional>

#include "slmq/config/run_config.h"
#include "slmq/eval/kl_divergence.h"
#include "slmq/eval/token_perplexity.h"
#include "slmq/eval/wiki_corpus.h"
#include "slmq/pipeline/run_model.h"
#include "slmq/pipeline/run_shared.h"

namespace slmq {

struct PplBlockResult {
  // The result file's "ppl" object: {corpus, wiki_token_perplexity, and with a baseline
  // baseline_wiki_token_perplexity and kl_divergence}.
  nlohmann::json json;
  // What front ends print.
  eval::TokenCorpus corpus;
  eval::TokenPerplexityResult ppl;
  std::optional<eval::KlDivergenceResult> kl;
};

// Scores run.model() with the run's tokenizer; with `baseline` (the model before quantization,
// or another model), KL(baseline || model) on the same windows. ConfigError naming ppl.seqlen,
// ppl.bos or ppl.kl_positions for settings the model cannot take. With `shared`, the corpus is
// tokenized once per model, and the shared baseline's hidden states are computed once per window.
PplBlockResult run_ppl_block(const RunModel& run, const Model* baseline, const PplSection& ppl,
                             RunShared* shared = nullptr);

// Reads the WikiText-2 test file and checks ppl.bos without a model (DataError naming a missing
// or malformed file), so a run fails before it loads and quantizes anything.
void check_ppl_data(const PplSection& ppl);

// The eval.tasks entry `slmquant report` reads for the token perplexity
// (docs/result_schema.md: kind perplexity, metric token_perplexity).
nlohmann::json wiki_token_ppl_task(const nlohmann::json& ppl_block);

}  // namespace slmq
