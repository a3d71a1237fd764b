#pragma once
// `quant.quantize_embedding`: the token-embedding table quantized with the config's weight spec
// (weight-only, round-to-nearest, as llama.cpp quantizes token_embd), so a quantized model no
// longer carries its largest float tensor (Gemma-3-270M: 640 MiB of 262144 × 640 fp32). Rows are
// dequantized as they are looked up (Model::set_embedding_table). A tied model whose lm_head was
// quantized to the very codes the table gets shares them: one copy serves both.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "slmq/model/model.h"
#include "slmq/quant/quant_spec.h"

namespace slmq {

// Why `config` cannot quantize `model`'s embedding; nullopt when it can or is not asked to.
std::optional<std::string> embedding_unsupported_reason(const Model& model,
                                                        const QuantConfig& config) noexcept;

// Quantizes the embedding when config.quantize_embedding (after the method quantized the
// linears). Returns the report's `embedding` block: {storage: "shared_with_lm_head" | "own",
// relative_error, bytes_before, bytes_after}; null when not asked. Throws UnsupportedError with
// the reason above.
nlohmann::json quantize_embedding(Model& model, const QuantConfig& config);

}  // namespace slmq
