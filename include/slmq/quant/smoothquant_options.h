#pragma once
// SmoothQuant's parameters (mit-han-lab/smoothquant smooth.py / fake_quant.py and llm-compressor's
// SmoothQuantModifier, specs/quant_methods.md §2): the `quant.smoothquant:` config block.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "slmq/quant/quant_flavour.h"

namespace slmq {

class ConfigNode;

enum class SmoothVariant {
  // mit-han-lab: a_j = max_t |X_tj| of the q_proj / gate_proj input, w_j = max |W_ij| over the
  // balance linears clamped ≥ 1e-5, s = clamp(a^α / w^(1−α), min 1e-5).
  kSmoothQuant,
  // llm-compressor: a_j = max_t X_tj − min_t X_tj of the norm's output, w_j = 2·max |W_ij|,
  // s = a^α / w^(1−α) (a where w = 0), then max(s, 1e-5).
  kLlmCompressor,
};

std::string to_string(SmoothVariant v);

struct SmoothQuantOptions {
  double alpha = 0.5;  // migration strength, ppl_eval.py's default
  SmoothVariant variant = SmoothVariant::kSmoothQuant;
  // ppl_eval.py's quantize_bmm_input: the q/k/v projection outputs (the attention matmul inputs,
  // before RoPE) are fake-quantized per token, 8-bit symmetric abs-max, as W8A8Linear's
  // output_quant does.
  bool quantize_bmm_input = false;

  nlohmann::json to_json() const;
  // llm-compressor's SmoothQuant pairs with its own (compressed_tensors) quantizer; the original
  // keeps the method's flavour.
  std::optional<QuantFlavour> flavour() const;
};

// `alpha` (0..1), `variant` (smoothquant | llm_compressor), `quantize_bmm_input` on top of `base`;
// ConfigErrors name the key path ("quant.smoothquant.alpha").
SmoothQuantOptions parse_smoothquant_section(const ConfigNode& node, SmoothQuantOptions base);

}  // namespace slmq
