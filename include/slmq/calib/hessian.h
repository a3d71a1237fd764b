#pragma once
// GPTQ's input Hessian of one linear, accumulated from the calibration inputs the layer capture
// shows it (calib/activation_stats.h records it; quant/gptq.h solves with it).
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace slmq {

// A linear's input Hessian H = (2/N) Σ x xᵀ over N calibration sequences, accumulated batch by
// batch as gptq.py add_batch does (running rescale, fp32; N counts sequences, not tokens).
class HessianAccumulator {
 public:
  explicit HessianAccumulator(int64_t in_features);
  // x: [B, T, in] (B sequences) or [T, in] (one sequence), any float dtype.
  void add_batch(const at::Tensor& x);
  const at::Tensor& hessian() const { return h_; }  // [in, in] fp32
  int64_t sequences() const { return sequences_; }

 private:
  at::Tensor h_;
  int64_t sequences_ = 0;
};

}  // namespace slmq
