#pragma once
// Analytic multiply-accumulates of a forward pass: every linear (its backend's macs(), whatever
// its storage) and the two attention matmuls (QKᵀ and AV) over the keys each query actually
// attends (causal, within the layer's sliding window), at the actual context length. Norms,
// activations, RoPE and softmax are not MACs and are not counted.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace slmq {

class Model;

struct MacCount {
  int64_t linear = 0;
  int64_t attention = 0;
  std::map<std::string, int64_t> linear_by_kind;  // by LinearBackend::kind()

  int64_t total() const { return linear + attention; }
  MacCount& operator+=(const MacCount& other);
  // {"total", "linear", "attention", "linear_by_kind"}, in MACs.
  nlohmann::json to_json() const;
};

// One forward of `batch` rows, each `new_tokens` tokens after `past` cached ones; the head runs on
// the last position of each row when `last_only` (generation), else on every position.
MacCount forward_macs(const Model& model, int64_t batch, int64_t new_tokens, int64_t past,
                      bool last_only);

}  // namespace slmq
