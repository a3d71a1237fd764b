#pragma once
// The quantizers OmniQuant trains through (specs/quant_methods.md §1 and §5): the `omniquant`
// (OpenGVLab UniformAffineQuantizer) and `llmc` (LLMC IntegerQuantizer) formulas of
// slmq/quant/quantizer.h, written with autograd-friendly ops: rounding is straight-through
// (x + (round(x) − x).detach(), whose value is exactly round(x)), gradients reach the scale
// through min and max (never detached), and the zero point is rounded and carries none.
// Values are those of quantizer.h's functions for the same inputs and dtype, so a block trained
// here and the FakeQuantLinear it becomes compute the same numbers in fp32.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "slmq/quant/quant_spec.h"
#include "slmq/quant/quantizer.h"

namespace slmq::omniquant {

// x + (round(x) − x).detach(): round half to even forward, identity backward.
at::Tensor round_ste(const at::Tensor& x);

// Scale (differentiable) and zero point (no gradient) from per-slice min and max of the
// `omniquant` or `llmc` flavour, or `compressed_tensors` (range widened to include 0; for
// activations that a compressed-tensors checkpoint reproduces); other flavours throw
// InternalError. Any equal shapes, any floating dtype (computed in it).
QuantParams ste_qparams(const at::Tensor& min, const at::Tensor& max, const QuantSpec& spec);

// (clamp(round_ste(x/Δ) + z, range) − z)·Δ with params broadcastable to x (compressed_tensors:
// round_ste(x/Δ + z)).
at::Tensor ste_fake_quant(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec);

// Dynamic per-token fake quantization over the last dim (the activation quantizer of every
// linear input, and of Q/K/V per head), in x's dtype, or fp32 for half and bfloat16 inputs as
// FakeQuantLinear does; returns x's dtype. `spec` must be per_token and dynamic.
at::Tensor fake_quant_tokens(const at::Tensor& x, const QuantSpec& spec);

// Learnable weight clipping of one [rows, cols] weight: per quantization slice (row, or
// (row, group)) learnable factors γ (upper) and β (lower), shape [rows·groups, 1], init 4.0.
//   omniquant: max' = σ(γ)·max, min' = σ(β)·min, then the flavour's formulas (symmetric too);
//              a group size that does not divide cols zero-pads the rows (symmetric only).
//   llmc:      symmetric: m = σ(γ)·max(|max|, |min|, 1e-5), min' = −m, max' = m (no β);
//              asymmetric as omniquant. The group size must divide cols.
// Without `learnable` the factors are absent and the range is the plain min/max (LWC off).
class LwcQuantizer {
 public:
  // The factors are created with `options` (dtype and device of the training), requires_grad.
  LwcQuantizer(int64_t rows, int64_t cols, const QuantSpec& spec, bool learnable,
               const at::TensorOptions& options);

  // w [rows, cols] -> Ŵ [rows, cols], differentiable in w and the factors.
  at::Tensor fake_quant(const at::Tensor& w) const;
  // The integer form of fake_quant(w) (computed without gradient in w's dtype; scales stored
  // fp32): dequantize(quantize(w)) == fake_quant(w) when w is fp32.
  QuantizedWeight quantize(const at::Tensor& w) const;

  // The learnable factors (γ, then β when present); empty without LWC.
  std::vector<at::Tensor> parameters() const;
  const at::Tensor& upper() const { return up_; }
  const at::Tensor& lower() const { return low_; }
  int64_t slices() const { return rows_ * groups_; }

 private:
  // [rows·groups, group] view of w, zero-padded when the group does not divide cols.
  at::Tensor grouped(const at::Tensor& w) const;
  // Scale and zero per slice [rows·groups, 1].
  QuantParams params(const at::Tensor& wg) const;
  // [rows·groups, group] -> [rows, cols], dropping the padding.
  at::Tensor ungrouped(const at::Tensor& x) const;

  int64_t rows_, cols_, group_, groups_;
  QuantSpec spec_;
  at::Tensor up_, low_;
};

}  // namespace slmq::omniquant
