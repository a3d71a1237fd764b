#include "slmq/quant/fake_quant_linear.h"

#include <ATen/ATen.h>

#include "slmq/core/error.h"

namespace slmq {

FakeQuantLinear::FakeQuantLinear(QuantizedWeight weight, at::Tensor bias,
                                 c10::ScalarType compute_dtype, std::optional<QuantSpec> activation,
                                 std::optional<QuantParams> static_params)
    : FakeQuantLinear(
          [&] {
            if (weight.codes.dim() != 2)
              throw InternalError("FakeQuantLinear codes must be [out, in]");
            return pack_weight(std::move(weight));
          }(),
          std::move(bias), compute_dtype, std::move(activation), std::move(static_params)) {}

FakeQuantLinear::FakeQuantLinear(PackedWeight weight, at::Tensor bias,
                                 c10::ScalarType compute_dtype, std::optional<QuantSpec> activation,
                                 std::optional<QuantParams> static_params)
    : weight_(std::move(weight)),
      bias_(std::move(bias)),
      compute_dtype_(compute_dtype),
      activation_(std::move(activation)),
      static_params_(std::move(static_params)) {
  check();
  // Symmetric zero points are the spec's constant: keep one element, not one per group.
  if (weight_.spec.symmetric) weight_.zeros = weight_.zeros.flatten().narrow(0, 0, 1).clone();
}

void FakeQuantLinear::check() const {
  if (weight_.data.dim() != 2 || weight_.data.size(0) != weight_.out_features)
    throw InternalError("FakeQuantLinear codes must be [out, in] (packed: [out, words])");
  if (bias_.defined() && (bias_.dim() != 1 || bias_.size(0) != weight_.out_features)) {
    throw InternalError("FakeQuantLinear bias must be [out_features]");
  }
  if (activation_ && !activation_->dynamic && !static_params_) {
    throw InternalError(
        "FakeQuantLinear: a static activation quantizer needs calibrated parameters");
  }
}

const at::Tensor& FakeQuantLinear::dequantized_weight() const {
  if (!dequantized_.defined()) dequantized_ = dequantize_packed(weight_).to(compute_dtype_);
  return dequantized_;
}

at::Tensor FakeQuantLinear::forward(const at::Tensor& x) const {
  at::Tensor input = x;
  if (activation_ && static_params_) {
    QuantParams p{static_params_->scale.to(x.device()), static_params_->zero.to(x.device())};
    input = fake_quantize_activation(x, *activation_, &p);
  } else if (activation_) {
    input = fake_quantize_activation(x, *activation_);
  }
  at::Tensor y = at::linear(input, dequantized_weight(), bias_);
  return output_ ? fake_quantize_activation(y, *output_) : y;
}

at::Tensor FakeQuantLinear::weight_rows(const at::Tensor& ids) const {
  const at::Tensor flat = ids.reshape({-1}).to(weight_.data.device(), at::kLong);
  if (dequantized_.defined()) return at::embedding(dequantized_, flat).reshape(sizes_with(ids));
  PackedWeight rows = weight_;
  rows.data = weight_.data.index_select(0, flat);
  // Per-tensor parameters ([1, 1]) hold for every row; others have one row per output.
  auto pick = [&](const at::Tensor& t) {
    return t.dim() > 0 && t.size(0) == weight_.out_features ? t.index_select(0, flat) : t;
  };
  rows.scales = pick(weight_.scales);
  if (!weight_.spec.symmetric) rows.zeros = pick(weight_.zeros);
  rows.out_features = flat.size(0);
  return dequantize_packed(rows).to(compute_dtype_).reshape(sizes_with(ids));
}

std::vector<int64_t> FakeQuantLinear::sizes_with(const at::Tensor& ids) const {
  std::vector<int64_t> sizes(ids.sizes().begin(), ids.sizes().end());
  sizes.push_back(weight_.in_features);
  return sizes;
}

std::vector<at::Tensor> FakeQuantLinear::stored_tensors() const {
  std::vector<at::Tensor> out = {weight_.data, weight_.scales};
  if (!weight_.spec.symmetric) out.push_back(weight_.zeros);
  if (bias_.defined()) out.push_back(bias_);
  return out;
}

int64_t FakeQuantLinear::parameters() const {
  return weight_.out_features * weight_.in_features + (bias_.defined() ? bias_.numel() : 0);
}

}  // namespace slmq
