#include "slmq/export/compressed_tensors_scheme.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "slmq/core/error.h"

namespace slmq::ct {
namespace {

std::string strategy_of(Granularity g) {
  switch (g) {
    case Granularity::kPerTensor:
      return "tensor";
    case Granularity::kPerChannel:
      return "channel";
    case Granularity::kPerGroup:
      return "group";
    case Granularity::kPerToken:
      return "token";
  }
  throw InternalError("unknown Granularity");
}

// What compressed-tensors stores for the scales of each strategy (initialize.py's shapes).
at::Tensor ct_scale_shape(const at::Tensor& scales, Granularity g) {
  at::Tensor s = scales.to(at::kFloat).contiguous();
  return g == Granularity::kPerTensor ? s.reshape({1}) : s;
}

}  // namespace

CtWeight to_ct_weight(const PackedWeight& w, const std::string& layer) {
  const QuantSpec& s = w.spec;
  if (s.granularity == Granularity::kPerGroup && w.in_features % s.group_size != 0) {
    throw UnsupportedError(fmt::format(
        "{}: group size {} leaves a shorter last group in {} input columns, which "
        "compressed-tensors cannot store (it requires the group size to divide the width)",
        layer, s.group_size, w.in_features));
  }
  const int64_t half = int64_t{1} << (s.bits - 1);
  // Unsigned code ranges move down by 2^(b-1); q − z, and so the dequantized weight, is unchanged.
  const int64_t shift = code_range(s).min == 0 ? half : 0;
  QuantizedWeight q = unpack_weight(w);
  at::Tensor zeros = q.zeros.to(at::kInt).expand(q.scales.sizes()) - shift;
  const int64_t zmin = zeros.min().item<int64_t>(), zmax = zeros.max().item<int64_t>();
  if (zmin < -half || zmax > half - 1) {
    throw UnsupportedError(fmt::format(
        "{}: zero points span [{}, {}] after the shift to signed codes, outside the signed {}-bit "
        "range [{}, {}] compressed-tensors stores ({} flavour); a flavour that widens the range "
        "to include 0 (compressed_tensors, gptq) always fits",
        layer, zmin + shift, zmax + shift, s.bits, -half, half - 1, to_string(s.flavour)));
  }
  CtWeight out;
  out.symmetric = s.symmetric && zmin == 0 && zmax == 0;
  out.codes = (q.codes.to(at::kShort) - shift).to(at::kChar).contiguous();
  if (!out.symmetric) out.zeros = ct_scale_shape(zeros, s.granularity).to(at::kChar);
  out.scales = ct_scale_shape(q.scales, s.granularity);
  return out;
}

at::Tensor pack_codes(const at::Tensor& codes, int bits) {
  return pack_int32(codes.to(at::kShort) + (1 << (bits - 1)), bits);
}

at::Tensor pack_zero_points(const at::Tensor& zeros, const QuantSpec& spec) {
  if (spec.granularity == Granularity::kPerTensor) return zeros.to(at::kChar).reshape({1});
  return pack_codes(zeros.t(), spec.bits).t().contiguous();
}

at::Tensor unpack_zero_points(const at::Tensor& stored, const QuantSpec& spec, int64_t out,
                              int64_t groups) {
  if (spec.granularity == Granularity::kPerTensor) return stored.to(at::kInt).reshape({1, 1});
  if (stored.dim() != 2 || stored.size(1) != groups)
    throw DataError(fmt::format("packed zero points: expected [words, {}], got {}", groups,
                                c10::str(stored.sizes())));
  at::Tensor u = unpack_int32(stored.t().contiguous(), spec.bits, out);  // [groups, out]
  return (u.to(at::kInt) - (1 << (spec.bits - 1))).t().contiguous();
}

nlohmann::json weight_args(const QuantSpec& s, bool symmetric) {
  return {{"num_bits", s.bits},
          {"type", "int"},
          {"symmetric", symmetric},
          {"group_size",
           s.granularity == Granularity::kPerGroup ? nlohmann::json(s.group_size) : nullptr},
          {"strategy", strategy_of(s.granularity)},
          {"dynamic", false}};
}

nlohmann::json activation_args(const QuantSpec& s, const std::string& layer) {
  const bool formula = s.flavour == QuantFlavour::kCompressedTensors && s.clip_ratio == 1.0;
  if (!formula || !s.dynamic ||
      (s.granularity != Granularity::kPerToken && s.granularity != Granularity::kPerTensor)) {
    throw UnsupportedError(fmt::format(
        "{}: activation quantizer '{}' cannot be stored: compressed-tensors checkpoints carry "
        "dynamic per_token or per_tensor activation quantization with the compressed_tensors "
        "formula (loaders compute the scales at run time); set quant.activation.flavour: "
        "compressed_tensors (clip_ratio 1, dynamic) or quantize weights only",
        layer, s.describe()));
  }
  return {{"num_bits", s.bits},
          {"type", "int"},
          {"symmetric", s.symmetric},
          {"group_size", nullptr},
          {"strategy", strategy_of(s.granularity)},
          {"dynamic", true}};
}

std::string format_for(bool has_activations) {
  return has_activations ? kIntQuantized : kPackQuantized;
}

}  // namespace slmq::ct
