#pragma once
// The accuracy path of every quantization scheme: integer weights with their scales and zero
// points are held at their true width (sub-byte codes packed into int32 words, PackedWeight),
// unpacked and dequantized (fp32, then the compute dtype) for each matmul; an optional activation
// quantizer fake-quantizes the input first. Works on any device torch does.
#include <ATen/core/Tensor.h>

#include <optional>

#include "slmq/model/linear_backend.h"
#include "slmq/quant/packed_weight.h"
#include "slmq/quant/quantizer.h"

namespace slmq {

class FakeQuantLinear final : public LinearBackend {
 public:
  // weight: codes [out, in] int8/uint8, scales/zeros [out, groups]; bias [out] in `compute_dtype`
  // or undefined. `activation`: a dynamic spec, or a static one with `static_params` set.
  // Zero points are stored only for asymmetric specs (symmetric ones are a constant of the spec).
  FakeQuantLinear(QuantizedWeight weight, at::Tensor bias, c10::ScalarType compute_dtype,
                  std::optional<QuantSpec> activation = std::nullopt,
                  std::optional<QuantParams> static_params = std::nullopt);
  // The same from codes already packed (a loaded checkpoint).
  FakeQuantLinear(PackedWeight weight, at::Tensor bias, c10::ScalarType compute_dtype,
                  std::optional<QuantSpec> activation = std::nullopt,
                  std::optional<QuantParams> static_params = std::nullopt);

  // x [..., in] compute dtype -> [..., out] compute dtype.
  at::Tensor forward(const at::Tensor& x) const override;
  int64_t in_features() const override { return weight_.in_features; }
  int64_t out_features() const override { return weight_.out_features; }
  // Codes (bits/8 bytes per weight, rounded up per row to whole int32 words below 8 bits),
  // scales, zero points (asymmetric only), bias.
  std::vector<at::Tensor> stored_tensors() const override;
  int64_t parameters() const override;
  std::string kind() const override { return "fake_quant"; }
  // The picked rows dequantized from their codes alone (the full dequantized weight is neither
  // built nor kept, so a quantized embedding table stays at its stored size).
  at::Tensor weight_rows(const at::Tensor& ids) const override;

  // The codes unpacked (int8 or uint8 [out, in]) with scales and zero points; symmetric specs
  // hold a single zero point (the spec's constant).
  QuantizedWeight weight() const { return unpack_weight(weight_); }
  // As stored.
  const PackedWeight& packed_weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }
  const std::optional<QuantSpec>& activation() const { return activation_; }
  // A dynamic quantizer applied to the output (SmoothQuant's quantize_bmm_input fake-quantizes
  // the q/k/v projection outputs, the attention matmul inputs, per token).
  void set_output_quantizer(QuantSpec spec) { output_ = std::move(spec); }
  const std::optional<QuantSpec>& output_quantizer() const { return output_; }
  // [out, in] in the compute dtype: what the matmul uses. Computed on first use and kept, so
  // forwards do not unpack and dequantize again (accuracy path: its memory is that of a dense
  // layer; bytes() still counts the stored form).
  const at::Tensor& dequantized_weight() const;

 private:
  void check() const;
  // ids' sizes followed by in_features.
  std::vector<int64_t> sizes_with(const at::Tensor& ids) const;

  PackedWeight weight_;
  at::Tensor bias_;
  c10::ScalarType compute_dtype_;
  std::optional<QuantSpec> activation_;
  std::optional<QuantParams> static_params_;
  std::optional<QuantSpec> output_;
  mutable at::Tensor dequantized_;  // lazily filled cache of dequantized_weight()
};

}  // namespace slmq
