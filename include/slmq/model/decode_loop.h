#pragma once
// One greedy decode step of every row of a KV cache without the tensor library in the loop: a
// decode step of a 135M model is ~200 linears and ~6000 small tensor operations through
// Model::forward, whose dispatch and allocation cost more than the weights' streaming on a CPU.
// Here every intermediate lives in buffers allocated once, the linears run through
// LinearBackend::forward_into and the rest through slmq/kernels/cpu_decode_ops.h. It computes
// what Model::forward computes for a one-token step (tests/reference/decode_loop_test.cpp: logits
// within fp32 summation-order differences, the same greedy tokens).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slmq {

class KVCache;
class LinearBackend;
class Model;

class DecodeLoop {
 public:
  // Why `model` has no tensor-free decode step (nullopt when it has one): float32 on the CPU,
  // SiLU-gated MLPs, RMSNorm pre-norm layers.
  static std::optional<std::string> unsupported_reason(const Model& model);
  // Throws UnsupportedError with that reason.
  explicit DecodeLoop(const Model& model);

  // Feeds tokens[b] to row b of `cache` (cache.batch() rows, each continuing its own sequence),
  // appends their keys and values and returns the logits [batch, vocab] (float32, valid until
  // the next call).
  const float* step(const std::vector<int64_t>& tokens, KVCache& cache);

 private:
  struct Layer {
    const float* input_norm;
    const float* post_attention_norm;
    const LinearBackend *q, *k, *v, *o, *gate, *up, *down;
    int64_t window;  // 0: full attention
  };
  // cos/sin of every position below `positions` ([positions, head_dim] each).
  void ensure_rope(int64_t positions);

  const Model& model_;
  std::vector<Layer> layers_;
  const LinearBackend* head_ = nullptr;
  int64_t hidden_, heads_, kv_heads_, head_dim_, intermediate_, vocab_;
  float eps_, scale_;
  std::vector<float> cos_, sin_;
  int64_t rope_positions_ = 0;
  // Per-step buffers, sized for the largest batch seen.
  std::vector<float> x_, h_, q_, k_, v_, attn_, o_, gate_, up_, logits_, scores_;
};

}  // namespace slmq
