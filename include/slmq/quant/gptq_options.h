#pragma once
// GPTQ's parameters (IST-DASLab gptq.py fasterquant and llama.py), shared by the solver, the
// layer-by-layer method and the `quant.gptq:` config block. Defaults are the original's.
#include <cstdint>

#include <nlohmann/json.hpp>

namespace slmq {

class ConfigNode;

struct GptqOptions {
  int64_t block_size = 128;
  double percdamp = 0.01;      // damping = percdamp · mean(diag H)
  bool act_order = false;      // columns in descending diag(H) order
  bool static_groups = false;  // group parameters from the weight before any update
  int max_damp_retries = 4;    // each retry multiplies percdamp by 10
  // Layer driver: quantize [q,k,v], [o], [gate,up], [down] in turn, each group's Hessians
  // collected after the previous groups of the layer were quantized.
  bool true_sequential = false;

  nlohmann::json to_json() const;
};

// `block_size, percdamp, act_order, static_groups, true_sequential, max_damp_retries` on top of
// `base`; ConfigErrors name the key path ("quant.gptq.percdamp").
GptqOptions parse_gptq_section(const ConfigNode& node, GptqOptions base);

}  // namespace slmq
