#include "slmq/calib/hessian.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

namespace slmq {

HessianAccumulator::HessianAccumulator(int64_t in_features)
    : h_(at::zeros({in_features, in_features}, at::TensorOptions().dtype(at::kFloat))) {}

void HessianAccumulator::add_batch(const at::Tensor& x) {
  c10::InferenceMode guard;
  at::Tensor in = x.dim() == 2 ? x.unsqueeze(0) : x;
  const int64_t batch = in.size(0);
  in = in.reshape({-1, in.size(-1)}).t();
  if (h_.device() != in.device()) h_ = h_.to(in.device());
  h_.mul_(static_cast<double>(sequences_) / static_cast<double>(sequences_ + batch));
  sequences_ += batch;
  in = std::sqrt(2.0 / static_cast<double>(sequences_)) * in.to(at::kFloat);
  h_.add_(in.matmul(in.t()));
}

}  // namespace slmq
