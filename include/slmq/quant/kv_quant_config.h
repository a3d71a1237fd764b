#pragma once
// The `quant.kv:` block: KV-cache quantization for every method (specs/quant_methods.md §7.2-7.3):
// keys after RoPE (and after R3 where a rotation method adds it), values at v_proj's output, per
// token over all KV heads (group_size -1) or per token and head (group_size = head_dim).
//   kv: {k_bits: 4, v_bits: 4, group_size: -1, symmetric: false, clip_ratio: 1.0}
#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace slmq {

class ConfigNode;

struct KvQuantConfig {
  int k_bits = 16;  // 16: keys stay in the compute dtype
  int v_bits = 16;
  int64_t group_size = -1;  // -1 or head_dim
  bool symmetric = false;
  double clip_ratio = 1.0;
  bool enabled() const { return k_bits < 16 || v_bits < 16; }
  int kv_bits() const { return std::min(k_bits, v_bits); }
  nlohmann::json to_json() const;
};

// Parses `k_bits`, `v_bits` (2..8 or 16), `group_size` (-1 or a positive head size, checked
// against the model when the quantizers are attached), `symmetric`, `clip_ratio` (0, 1];
// ConfigErrors name the key path ("quant.kv.k_bits").
KvQuantConfig parse_kv_section(const ConfigNode& node);

}  // namespace slmq
