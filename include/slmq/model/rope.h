#pragma once
// Rotary position embeddings as transformers computes them: inverse frequencies in fp32 (linear,
// llama3, longrope scaling, or GGUF rope_freqs factors), cos/sin in fp32 (times the attention
// factor of longrope), cast to the compute dtype before rotating; partial rotary dimensions.
#include <ATen/core/Tensor.h>

#include <utility>

#include "slmq/model/model_config.h"

namespace slmq {

class RotaryEmbedding {
 public:
  RotaryEmbedding(const RopeConfig& rope, int64_t head_dim, c10::Device device);

  // position_ids [B,T] int64 -> (cos, sin) each [B,1,T,rotary_dim] in `dtype`. Longrope picks the
  // long factors when the call's largest position + 1 exceeds the original context, as
  // transformers' dynamic update does per forward call.
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& position_ids,
                                            c10::ScalarType dtype) const;

  const at::Tensor& inv_freq() const { return inv_freq_; }  // [rotary_dim/2] fp32

 private:
  at::Tensor inv_freq_;       // default / short factors
  at::Tensor long_inv_freq_;  // longrope only
  int64_t original_context_ = 0;
  double attention_factor_ = 1.0;
};

// x [B,H,T,D] -> x*cos + rotate_half(x)*sin on the first rotary_dim = cos.size(-1) dimensions,
// the rest passed through; rotate_half(x) = cat(-x2, x1).
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace slmq
