#pragma once
// Rotary position embeddings as transformers computes them: inverse frequencies in fp32 (with
// linear or llama3 scaling), cos/sin in fp32, cast to the compute dtype before rotating.
#include <ATen/core/Tensor.h>

#include <utility>

#include "slmq/model/model_config.h"

namespace slmq {

class RotaryEmbedding {
 public:
  RotaryEmbedding(const RopeConfig& rope, int64_t head_dim, c10::Device device);

  // position_ids [B,T] int64 -> (cos, sin) each [B,1,T,head_dim] in `dtype`.
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& position_ids,
                                            c10::ScalarType dtype) const;

  const at::Tensor& inv_freq() const { return inv_freq_; }  // [head_dim/2] fp32

 private:
  at::Tensor inv_freq_;
};

// x [B,H,T,D] -> x*cos + rotate_half(x)*sin, where rotate_half(x) = cat(-x2, x1).
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace slmq
