#include "slmq/model/linear_backend.h"

#include <ATen/ATen.h>

#include "slmq/core/error.h"

namespace slmq {

DenseLinear::DenseLinear(at::Tensor weight, at::Tensor bias)
    : weight_(std::move(weight)), bias_(std::move(bias)) {
  if (weight_.dim() != 2) throw InternalError("DenseLinear weight must be 2-D");
  if (bias_.defined() && (bias_.dim() != 1 || bias_.size(0) != weight_.size(0))) {
    throw InternalError("DenseLinear bias must be [out_features]");
  }
}

at::Tensor DenseLinear::forward(const at::Tensor& x) const { return at::linear(x, weight_, bias_); }

int64_t LinearBackend::bytes() const {
  int64_t total = 0;
  for (const auto& t : stored_tensors()) total += static_cast<int64_t>(t.nbytes());
  return total;
}

std::vector<at::Tensor> DenseLinear::stored_tensors() const {
  if (bias_.defined()) return {weight_, bias_};
  return {weight_};
}

int64_t DenseLinear::parameters() const {
  return weight_.numel() + (bias_.defined() ? bias_.numel() : 0);
}

}  // namespace slmq
