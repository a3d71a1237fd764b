#include "slmq/quant/scale_folding.h"

#include <ATen/ATen.h>

#include "slmq/core/error.h"

namespace slmq {
namespace {

// W[:, j]·s_j in fp32, back in W's dtype.
at::Tensor scale_columns(const at::Tensor& w, const at::Tensor& s) {
  return (w.to(at::kFloat) * s.view({1, -1})).to(w.scalar_type());
}

}  // namespace

const DenseLinear& dense_linear(const std::unique_ptr<LinearBackend>& slot,
                                const std::string& name) {
  const auto* dense = dynamic_cast<const DenseLinear*>(slot.get());
  if (dense == nullptr)
    throw InternalError(name + " is a '" + slot->kind() + "' linear, expected a dense one");
  return *dense;
}

void fold_scales_into_norm(DecoderLayer& layer, NormRole norm,
                           const std::vector<std::unique_ptr<LinearBackend>*>& linears,
                           const at::Tensor& s) {
  const at::Tensor gain = layer.norm_gain(norm);
  const at::Tensor scales = s.to(at::kFloat).to(gain.device());
  layer.set_norm_gain(norm, gain / scales);
  for (auto* slot : linears) {
    const DenseLinear& fc = dense_linear(*slot, "a smoothed linear");
    *slot = std::make_unique<DenseLinear>(scale_columns(fc.weight(), scales), fc.bias());
  }
}

void fold_scales_between_linears(std::unique_ptr<LinearBackend>& prev,
                                 std::unique_ptr<LinearBackend>& next, const at::Tensor& s) {
  const DenseLinear& a = dense_linear(prev, "the previous linear");
  const DenseLinear& b = dense_linear(next, "the scaled linear");
  const at::Tensor scales = s.to(at::kFloat).to(a.weight().device());
  const int64_t n = scales.size(0), rows = a.weight().size(0);
  at::Tensor w = a.weight().to(at::kFloat).clone();
  w.narrow(0, rows - n, n).div_(scales.view({-1, 1}));
  at::Tensor bias = a.bias();
  if (bias.defined()) {
    at::Tensor b32 = bias.to(at::kFloat).clone();
    b32.narrow(0, rows - n, n).div_(scales);
    bias = b32.to(bias.scalar_type());
  }
  auto new_prev = std::make_unique<DenseLinear>(w.to(a.weight().scalar_type()), bias);
  auto new_next = std::make_unique<DenseLinear>(scale_columns(b.weight(), scales), b.bias());
  prev = std::move(new_prev);
  next = std::move(new_next);
}

}  // namespace slmq
