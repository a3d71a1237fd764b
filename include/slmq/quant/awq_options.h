#pragma once
// AWQ's parameters (mit-han-lab/llm-awq auto_scale.py / auto_clip.py, specs/quant_methods.md §4):
// the `quant.awq:` config block. Defaults are the original's.
#include <cstdint>

#include <nlohmann/json.hpp>

namespace slmq {

class ConfigNode;

struct AwqOptions {
  bool scale = true;             // run_awq auto_scale
  int64_t n_grid = 20;           // scale ratios k/n_grid, k < n_grid; clip shrink steps 1/n_grid
  bool clip = true;              // run_awq mse_range (auto_clip_block)
  double max_shrink = 0.5;       // clip candidates max|W|·(1 − k/n_grid), k < max_shrink·n_grid
  int64_t n_sample_token = 512;  // clip search keeps every (tokens / n_sample_token)-th token

  nlohmann::json to_json() const;
};

// `scale, n_grid, clip, max_shrink, n_sample_token` on top of `base`; ConfigErrors name the key
// path ("quant.awq.n_grid").
AwqOptions parse_awq_section(const ConfigNode& node, AwqOptions base);

}  // namespace slmq
