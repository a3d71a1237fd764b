#include "slmq/quant/quantizer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <limits>

#include "slmq/core/error.h"

namespace slmq {
namespace {

struct Levels {
  double unsigned_max;  // 2^b - 1
  double half;          // 2^(b-1)
};

Levels levels(const QuantSpec& s) {
  return {static_cast<double>((int64_t{1} << s.bits) - 1),
          static_cast<double>(int64_t{1} << (s.bits - 1))};
}

// GPTQ quant.py find_params: symmetric mirrors the negative end only where min < 0, so an
// all-non-negative slice keeps min = 0 and gets Δ = max/(2^b-1).
QuantParams gptq_params(at::Tensor min, at::Tensor max, const QuantSpec& s) {
  const Levels l = levels(s);
  if (s.symmetric) {
    max = at::maximum(min.abs(), max);
    min = at::where(min < 0, -max, min);
  }
  at::Tensor both_zero = (min == 0).logical_and(max == 0);
  min = at::where(both_zero, at::full_like(min, -1), min);
  max = at::where(both_zero, at::full_like(max, 1), max);
  at::Tensor scale = (max - min) / l.unsigned_max;
  at::Tensor zero =
      s.symmetric ? at::full_like(scale, (l.unsigned_max + 1) / 2) : at::round(-min / scale);
  return {scale, zero};
}

// compressed-tensors calculate_qparams. Where the reference divides 0 by 0 for an all-zero
// asymmetric slice (a NaN zero point), the zero point is 0 here.
QuantParams compressed_tensors_params(const at::Tensor& min, const at::Tensor& max,
                                      const QuantSpec& s) {
  const Levels l = levels(s);
  at::Tensor scale, zero;
  if (s.symmetric) {
    scale = at::maximum(min.abs(), max.abs()) / (l.unsigned_max / 2);
    zero = at::zeros_like(scale);
  } else {
    scale = (max - min) / l.unsigned_max;
    zero = at::clamp(-l.half - min / scale, -l.half, l.half - 1);
    zero = at::where(scale == 0, at::zeros_like(zero), zero);
  }
  const float eps = std::numeric_limits<float>::epsilon();
  scale = at::where(scale == 0, at::full_like(scale, eps), scale);
  return {scale, at::round(zero)};
}

// QuaRot / SpinQuant WeightQuantizer (role weight) and ActQuantizer (role activation).
QuantParams quarot_params(at::Tensor min, at::Tensor max, const QuantSpec& s, QuantRole role) {
  const Levels l = levels(s);
  const bool weight = role == QuantRole::kWeight;
  if (s.symmetric) {
    at::Tensor m = at::maximum(min.abs(), max);
    if (weight) m = m.clamp_min(1e-5);
    at::Tensor scale = m / (l.half - 1);
    if (!weight) scale = at::where(m == 0, at::ones_like(scale), scale);
    return {scale, at::zeros_like(scale)};
  }
  at::Tensor both_zero = (min == 0).logical_and(max == 0);
  min = at::where(both_zero, at::full_like(min, -1), min);
  max = at::where(both_zero, at::full_like(max, 1), max);
  at::Tensor range = max - min;
  if (weight) range = range.clamp_min(1e-5);
  at::Tensor scale = range / l.unsigned_max;
  return {scale, at::round(-min / scale)};
}

// LLMC IntegerQuantizer (minmax) and llm-awq pseudo_quantize_tensor use the same formulas; the
// flavours stay apart because their group-size rules and method defaults differ.
QuantParams llmc_awq_params(const at::Tensor& min, const at::Tensor& max, const QuantSpec& s) {
  const Levels l = levels(s);
  if (s.symmetric) {
    at::Tensor m = at::maximum(min.abs(), max.abs()).clamp_min(1e-5);
    at::Tensor scale = m / (l.half - 1);
    return {scale, at::zeros_like(scale)};
  }
  at::Tensor scale = (max - min).clamp_min(1e-5) / l.unsigned_max;
  at::Tensor zero = at::clamp(-at::round(min / scale), 0, l.unsigned_max);
  return {scale, zero};
}

// OmniQuant UniformAffineQuantizer without learnable clipping.
QuantParams omniquant_params(const at::Tensor& min, const at::Tensor& max, const QuantSpec& s) {
  const Levels l = levels(s);
  if (s.symmetric) {
    at::Tensor scale = (at::maximum(max.abs(), min.abs()) / (l.half - 1)).clamp(1e-5, 1e4);
    return {scale, at::full_like(scale, l.half - 1)};
  }
  at::Tensor scale = ((max - min) / l.unsigned_max).clamp(1e-5, 1e4);
  at::Tensor zero = at::round((-min / scale).clamp(-1e4, 1e4));
  return {scale, zero};
}

// Min and max of each (row, group) of x [rows, cols]; a last group shorter than `group` when it
// does not divide cols. Returns [rows, groups] each.
std::pair<at::Tensor, at::Tensor> group_min_max(const at::Tensor& x, int64_t group) {
  const int64_t rows = x.size(0), cols = x.size(1), full = cols / group;
  std::vector<at::Tensor> mins, maxs;
  if (full > 0) {
    at::Tensor body = x.narrow(1, 0, full * group).reshape({rows, full, group});
    mins.push_back(std::get<0>(body.min(2)));
    maxs.push_back(std::get<0>(body.max(2)));
  }
  if (full * group < cols) {
    at::Tensor tail = x.narrow(1, full * group, cols - full * group);
    mins.push_back(std::get<0>(tail.min(1, /*keepdim=*/true)));
    maxs.push_back(std::get<0>(tail.max(1, /*keepdim=*/true)));
  }
  return {at::cat(mins, 1), at::cat(maxs, 1)};
}

// [rows, groups] -> [rows, cols], each group's value repeated over its columns.
at::Tensor expand_groups(const at::Tensor& p, int64_t group, int64_t cols) {
  return p.repeat_interleave(group, 1).narrow(1, 0, cols);
}

}  // namespace

CodeRange code_range(const QuantSpec& s) {
  const int64_t u = (int64_t{1} << s.bits) - 1, h = int64_t{1} << (s.bits - 1);
  const bool signed_codes =
      s.flavour == QuantFlavour::kCompressedTensors ||
      (s.symmetric && (s.flavour == QuantFlavour::kQuarot || s.flavour == QuantFlavour::kLlmc ||
                       s.flavour == QuantFlavour::kAwq));
  return signed_codes ? CodeRange{-h, h - 1} : CodeRange{0, u};
}

bool includes_zero(const QuantSpec& s, QuantRole role) {
  switch (s.flavour) {
    case QuantFlavour::kGptq:
    case QuantFlavour::kCompressedTensors:
      return true;
    case QuantFlavour::kQuarot:
      return !(role == QuantRole::kActivation && s.granularity == Granularity::kPerGroup);
    default:
      return false;
  }
}

QuantParams qparams_from_range(const at::Tensor& raw_min, const at::Tensor& raw_max,
                               const QuantSpec& s, QuantRole role) {
  at::Tensor min = raw_min.to(at::kFloat), max = raw_max.to(at::kFloat);
  if (includes_zero(s, role)) {
    min = at::minimum(min, at::zeros_like(min));
    max = at::maximum(max, at::zeros_like(max));
  }
  if (s.clip_ratio != 1.0) {
    min = min * s.clip_ratio;
    max = max * s.clip_ratio;
  }
  switch (s.flavour) {
    case QuantFlavour::kGptq:
      return gptq_params(min, max, s);
    case QuantFlavour::kCompressedTensors:
      return compressed_tensors_params(min, max, s);
    case QuantFlavour::kQuarot:
      return quarot_params(min, max, s, role);
    case QuantFlavour::kLlmc:
    case QuantFlavour::kAwq:
      return llmc_awq_params(min, max, s);
    case QuantFlavour::kOmniquant:
      return omniquant_params(min, max, s);
  }
  throw InternalError("qparams_from_range: unknown flavour");
}

at::Tensor quantize_values(const at::Tensor& x, const QuantParams& p, const QuantSpec& s) {
  const CodeRange r = code_range(s);
  at::Tensor q = s.flavour == QuantFlavour::kCompressedTensors ? at::round(x / p.scale + p.zero)
                                                               : at::round(x / p.scale) + p.zero;
  return at::clamp(q, static_cast<double>(r.min), static_cast<double>(r.max));
}

ScalarQuantizer::ScalarQuantizer(const QuantSpec& s)
    : add_zero_before_rounding(s.flavour == QuantFlavour::kCompressedTensors),
      min(static_cast<float>(code_range(s).min)),
      max(static_cast<float>(code_range(s).max)) {}

at::Tensor dequantize_values(const at::Tensor& codes, const QuantParams& p) {
  return (codes.to(at::kFloat) - p.zero) * p.scale;
}

int64_t QuantizedWeight::columns_per_group() const {
  return spec.granularity == Granularity::kPerGroup ? spec.group_size : in_features;
}

QuantizedWeight quantize_weight(const at::Tensor& weight, const QuantSpec& s) {
  validate(s, QuantRole::kWeight, "weight");
  if (weight.dim() != 2) throw InternalError("quantize_weight: weight must be [out, in]");
  at::Tensor w = weight.to(at::kFloat).contiguous();
  const int64_t cols = w.size(1);
  if (s.granularity == Granularity::kPerGroup && cols % s.group_size != 0 &&
      !allows_ragged_groups(s, QuantRole::kWeight)) {
    throw UnsupportedError(
        fmt::format("group size {} does not divide {} input columns, which the {} flavour{} "
                    "requires",
                    s.group_size, cols, to_string(s.flavour),
                    s.flavour == QuantFlavour::kOmniquant ? " (asymmetric)" : ""));
  }
  at::Tensor min, max;
  int64_t group = cols;
  if (s.granularity == Granularity::kPerTensor) {
    min = w.min().reshape({1, 1});
    max = w.max().reshape({1, 1});
  } else {
    group = s.granularity == Granularity::kPerGroup ? s.group_size : cols;
    std::tie(min, max) = group_min_max(w, group);
  }
  QuantParams p = qparams_from_range(min, max, s, QuantRole::kWeight);
  at::Tensor codes;
  if (s.granularity == Granularity::kPerTensor) {
    codes = quantize_values(w, p, s);
  } else if (cols % group == 0) {
    // Full groups: broadcast over a [out, groups, group] view instead of materialising
    // per-column parameters (same elementwise operations, a third of the memory traffic).
    codes = quantize_values(w.view({w.size(0), cols / group, group}),
                            {p.scale.unsqueeze(2), p.zero.unsqueeze(2)}, s)
                .view({w.size(0), cols});
  } else {
    codes = quantize_values(
        w, {expand_groups(p.scale, group, cols), expand_groups(p.zero, group, cols)}, s);
  }
  QuantizedWeight q;
  q.codes = codes.to(code_range(s).min < 0 ? at::kChar : at::kByte);
  q.scales = p.scale.contiguous();
  q.zeros = p.zero.to(at::kInt).contiguous();
  q.spec = s;
  q.in_features = cols;
  return q;
}

at::Tensor dequantize(const QuantizedWeight& q) {
  const int64_t cols = q.in_features;
  QuantParams p{q.scales, q.zeros.to(at::kFloat)};
  if (q.spec.granularity == Granularity::kPerTensor) return dequantize_values(q.codes, p);
  const int64_t group = q.columns_per_group(), rows = q.codes.size(0);
  if (cols % group == 0) {
    return dequantize_values(q.codes.view({rows, cols / group, group}),
                             {p.scale.unsqueeze(2), p.zero.unsqueeze(2)})
        .view({rows, cols});
  }
  p = {expand_groups(p.scale, group, cols), expand_groups(p.zero, group, cols)};
  return dequantize_values(q.codes, p);
}

QuantizedActivation quantize_activation(const at::Tensor& x, const QuantSpec& s,
                                        const QuantParams* static_params) {
  const int64_t c = x.size(-1);
  at::Tensor v = x.to(at::kFloat).reshape({-1, c});
  QuantizedActivation out;
  if (!s.dynamic) {
    if (static_params == nullptr)
      throw InternalError("static activation quantizer used before calibration");
    out.params = *static_params;
    out.codes = quantize_values(v, out.params, s);
    return out;
  }
  switch (s.granularity) {
    case Granularity::kPerTensor:
      out.params = qparams_from_range(v.min().reshape({1, 1}), v.max().reshape({1, 1}), s,
                                      QuantRole::kActivation);
      out.codes = quantize_values(v, out.params, s);
      return out;
    case Granularity::kPerToken:
      out.params = qparams_from_range(std::get<0>(v.min(1, true)), std::get<0>(v.max(1, true)), s,
                                      QuantRole::kActivation);
      out.codes = quantize_values(v, out.params, s);
      return out;
    case Granularity::kPerGroup: {
      if (c % s.group_size != 0) {
        throw UnsupportedError(
            fmt::format("activation group size {} does not divide the width {}", s.group_size, c));
      }
      at::Tensor g = v.reshape({v.size(0), c / s.group_size, s.group_size});
      out.params = qparams_from_range(std::get<0>(g.min(2, true)), std::get<0>(g.max(2, true)), s,
                                      QuantRole::kActivation);
      out.codes = quantize_values(g, out.params, s).reshape({-1, c});
      out.params = {out.params.scale.squeeze(2), out.params.zero.squeeze(2)};
      return out;
    }
    case Granularity::kPerChannel:
      break;
  }
  throw ConfigError("activation quantization cannot be per_channel");
}

at::Tensor fake_quantize_activation(const at::Tensor& x, const QuantSpec& s,
                                    const QuantParams* static_params) {
  QuantizedActivation q = quantize_activation(x, s, static_params);
  at::Tensor deq;
  if (s.granularity == Granularity::kPerGroup && s.dynamic) {
    const int64_t c = x.size(-1);
    at::Tensor codes = q.codes.reshape({-1, c / s.group_size, s.group_size});
    deq = dequantize_values(codes, {q.params.scale.unsqueeze(2), q.params.zero.unsqueeze(2)});
  } else {
    deq = dequantize_values(q.codes, q.params);
  }
  return deq.reshape(x.sizes()).to(x.scalar_type());
}

QuantParams calibrate_static(double min, double max, const QuantSpec& s) {
  auto opts = at::TensorOptions().dtype(at::kFloat);
  return qparams_from_range(at::full({1, 1}, min, opts), at::full({1, 1}, max, opts), s,
                            QuantRole::kActivation);
}

}  // namespace slmq
