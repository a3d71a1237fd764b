#pragma once
// The `ppl:` block of a run: the "Wiki" token perplexity on WikiText-2 test and, when a baseline
// (the model before quantization) is given, the KL divergence against it.
#include <nlohmann/json.hpp>

#include <string>

#include "slmq/config/run_config.h"
#include "slmq/model/model.h"

namespace slmq {

// Returns the result file's "ppl" object: {corpus, windows, wiki_token_perplexity,
// kl_divergence (with a baseline)}. `model_path` gives the tokenizer.
nlohmann::json run_ppl_block(const Model& model, const Model* baseline,
                             const std::string& model_path, const PplSection& ppl);

// Reads the WikiText-2 test file and checks ppl.bos without a model (DataError naming a missing
// or malformed file), so a run fails before it loads and quantizes anything.
void check_ppl_data(const PplSection& ppl);

// The eval.tasks entry `slmquant report` reads for the token perplexity
// (docs/result_schema.md: kind perplexity, metric token_perplexity).
nlohmann::json wiki_token_ppl_task(const nlohmann::json& ppl_block);

}  // namespace slmq
