#pragma once
// Uniform integer quantizers, x̂ = (q − z)·Δ, with each reference repository's formulas for Δ, z
// and the code range (specs/quant_methods.md §1; QuantFlavour lists them). All arithmetic is
// fp32 and rounds half to even (at::round), in the same operation order as the references, so
// codes, scales and zeros are bit-identical to them.
#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "slmq/quant/quant_spec.h"

namespace slmq {

// The integer codes of a flavour lie in [min, max]: signed ([-2^(b-1), 2^(b-1)-1]) for
// compressed-tensors and the symmetric QuaRot/LLMC/AWQ quantizers, unsigned ([0, 2^b-1]) with a
// zero point for the GPTQ and OmniQuant quantizers and every other asymmetric one.
struct CodeRange {
  int64_t min = 0;
  int64_t max = 0;
};
CodeRange code_range(const QuantSpec& spec);

// Whether the flavour widens [min, max] to include 0 before forming the scale (GPTQ,
// compressed-tensors, QuaRot except its per-token-group activations) or not (LLMC, OmniQuant, AWQ).
bool includes_zero(const QuantSpec& spec, QuantRole role);

struct QuantParams {
  at::Tensor scale;  // fp32, one per slice (e.g. [out, groups] or [tokens, 1])
  at::Tensor zero;   // fp32 holding integers, same shape; 0 (compressed-tensors, QuaRot sym, ...)
                     // or 2^(b-1) (GPTQ sym), 2^(b-1)-1 (OmniQuant sym) for symmetric flavours
};

// Scale and zero point from the raw min and max of each slice (fp32, any equal shapes). Widening
// to include 0, the clip ratio and each flavour's epsilon handling happen here.
QuantParams qparams_from_range(const at::Tensor& min, const at::Tensor& max, const QuantSpec& spec,
                               QuantRole role);

// q = clamp(round(x/Δ) + z, range) — compressed-tensors: clamp(round(x/Δ + z), range). x fp32,
// params broadcastable to x. Returns fp32 holding integers.
at::Tensor quantize_values(const at::Tensor& x, const QuantParams& params, const QuantSpec& spec);
// (q − z)·Δ in fp32; q any integer or float dtype.
at::Tensor dequantize_values(const at::Tensor& codes, const QuantParams& params);

// quantize_values for one fp32 element, rounding for rounding the same (IEEE division, round half
// to even, no fused multiply-add): for loops that cannot afford a tensor op per element column.
struct ScalarQuantizer {
  explicit ScalarQuantizer(const QuantSpec& spec);
  float quantize(float x, float scale, float zero) const {
    const float q = add_zero_before_rounding ? std::nearbyint(x / scale + zero)
                                             : std::nearbyint(x / scale) + zero;
    return std::min(std::max(q, min), max);
  }
  static float dequantize(float q, float scale, float zero) { return (q - zero) * scale; }
  bool add_zero_before_rounding;  // the compressed-tensors formula
  float min, max;
};

// A quantized weight matrix, the reference form every packed format must dequantize to.
struct QuantizedWeight {
  at::Tensor codes;   // [out, in] int8 (signed code range) or uint8 (unsigned)
  at::Tensor scales;  // [out, groups] fp32: groups = ceil(in / group) for per_group, 1 otherwise
                      // ([1, 1] for per_tensor)
  at::Tensor zeros;   // same shape as scales, int32
  QuantSpec spec;
  int64_t in_features = 0;

  // Columns per group: group_size for per_group, in_features for per_channel and per_tensor.
  int64_t columns_per_group() const;
};

// w: [out, in], any float dtype (converted to fp32 first). Throws UnsupportedError when the spec's
// group size does not divide `in` and the flavour does not allow a shorter last group, and
// ConfigError for role-invalid specs (per_token weights).
QuantizedWeight quantize_weight(const at::Tensor& w, const QuantSpec& spec);
// [out, in] fp32.
at::Tensor dequantize(const QuantizedWeight& q);

// Activation quantization of x [..., C]. Dynamic specs compute the parameters from x (per_token:
// per row of the last dim; per_tensor; per_group: per token and group, quarot flavour, the group
// must divide C); static specs use `static_params` (per-tensor, from calibrate_static).
struct QuantizedActivation {
  at::Tensor codes;  // [N, C] fp32 holding integers, N = x.numel() / C
  QuantParams params;
};
QuantizedActivation quantize_activation(const at::Tensor& x, const QuantSpec& spec,
                                        const QuantParams* static_params = nullptr);
// Quantize-dequantize: same shape and dtype as x (computed in fp32).
at::Tensor fake_quantize_activation(const at::Tensor& x, const QuantSpec& spec,
                                    const QuantParams* static_params = nullptr);

// Per-tensor parameters from a calibrated range (static activation quantization).
QuantParams calibrate_static(double min, double max, const QuantSpec& spec);

}  // namespace slmq
