#pragma once
// One greedy decode step of every row of a KV cache without the tensor library in the loop: a
// decode step of a 135M model is ~200 linears and ~6000 small tensor operations through
// Model::forward, whose dispatch and allocation cost more than the weights' streaming on a CPU.
// Here every intermediate lives in buffers allocated once, the linears run through
// LinearBackend::forward_into and the rest through slmq/kernels/cpu_decode_ops.h. It computes
// what Model::forward computes for a one-token step (tests/reference/decode_loop_test.cpp: logits
// within fp32 summation-order differences, the same greedy tokens).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace at {
class Tensor;
}  // namespace at

namespace slmq {

class KVCache;
class LinearBackend;
class Model;

class DecodeLoop {
 public:
  // Why `model` has no tensor-free decode step (nullopt when it has one). It runs float32 models
  // on the CPU with RMSNorm (w or 1 + w) pre-norm layers, optional post-norms (Gemma-3's sandwich)
  // and per-head q/k norms (Qwen3, Gemma-3), SiLU- or tanh-GELU-gated MLPs, one RoPE or a global
  // and a local one (Gemma-3), an embedding multiplier and final logit soft-capping; not
  // LongRoPE or partial rotary embeddings.
  static std::optional<std::string> unsupported_reason(const Model& model);
  // Throws UnsupportedError with that reason.
  explicit DecodeLoop(const Model& model);

  // Feeds tokens[b] to row b of `cache` (cache.batch() rows, each continuing its own sequence),
  // appends their keys and values and returns the logits [batch, vocab] (float32, valid until
  // the next call).
  const float* step(const std::vector<int64_t>& tokens, KVCache& cache);

 private:
  struct Layer {
    // Gains by NormRole (1 + w folded in for Gemma's norms); null where the layer has none.
    std::array<const float*, 6> norm{};
    const LinearBackend *q, *k, *v, *o, *gate, *up, *down;
    int64_t window;  // 0: full attention
    int rope;        // index into cos_/sin_: 0 global, 1 local (Gemma-3 sliding layers)
  };
  // cos/sin of every position below `positions` ([positions, head_dim] each), per RoPE.
  void ensure_rope(int64_t positions);
  const float* gain(const at::Tensor& weight);
  void attend_float(KVCache& cache, int64_t layer, int64_t b, int64_t first, int64_t slot);
  void attend_int8(KVCache& cache, int64_t layer, int64_t b, int64_t first, int64_t slot);
  void norm_rows(const float* gain, float* x, int64_t rows, int64_t width, float* out) const;

  const Model& model_;
  std::vector<Layer> layers_;
  const LinearBackend* head_ = nullptr;
  int64_t hidden_, heads_, kv_heads_, head_dim_, intermediate_, vocab_;
  float eps_, scale_;
  float embed_scale_ = 0;  // 0: none
  float soft_cap_ = 0;     // 0: none
  bool gelu_ = false;
  const float* final_gain_ = nullptr;
  std::vector<std::vector<float>> gains_;  // storage of the gains
  std::vector<float> cos_[2], sin_[2];
  int64_t rope_positions_ = 0;
  // Per-step buffers, sized for the largest batch seen.
  std::vector<float> x_, h_, q_, k_, v_, attn_, o_, gate_, up_, logits_, scores_;
};

}  // namespace slmq
