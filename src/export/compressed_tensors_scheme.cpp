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

template <typename T>
T get_or(const nlohmann::json& j, const char* key, T fallback) {
  return j.contains(key) && !j[key].is_null() ? j[key].get<T>() : fallback;
}

void require_int_type(const nlohmann::json& args, const std::string& where) {
  const std::string type = get_or<std::string>(args, "type", "int");
  if (type != "int") {
    throw UnsupportedError(where + ": type '" + type +
                           "' is not supported (slmquant runs integer quantization only)");
  }
}

int bits_of(const nlohmann::json& args, const std::string& where) {
  const int bits = get_or<int>(args, "num_bits", 8);
  if (bits < 2 || bits > 8)
    throw UnsupportedError(where + fmt::format(": num_bits {} is outside 2..8", bits));
  return bits;
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

QuantSpec weight_spec_from_args(const nlohmann::json& args, const std::string& where) {
  require_int_type(args, where);
  QuantSpec s;
  s.flavour = QuantFlavour::kCompressedTensors;
  s.bits = bits_of(args, where);
  s.symmetric = get_or<bool>(args, "symmetric", true);
  const std::string strategy = get_or<std::string>(args, "strategy", "tensor");
  if (strategy == "tensor") {
    s.granularity = Granularity::kPerTensor;
  } else if (strategy == "channel") {
    s.granularity = Granularity::kPerChannel;
  } else if (strategy == "group") {
    s.granularity = Granularity::kPerGroup;
    s.group_size = get_or<int64_t>(args, "group_size", 0);
    if (s.group_size < 1) throw DataError(where + ": strategy 'group' needs a positive group_size");
  } else {
    throw UnsupportedError(where + ": weight strategy '" + strategy +
                           "' is not supported (tensor, channel, group)");
  }
  if (get_or<bool>(args, "dynamic", false))
    throw UnsupportedError(where + ": dynamic weight quantization is not supported");
  const std::string actorder = args.contains("actorder") && args["actorder"].is_string()
                                   ? args["actorder"].get<std::string>()
                                   : "";
  if (actorder == "group") {
    throw UnsupportedError(where +
                           ": actorder 'group' (a g_idx permutation of the groups) is not "
                           "supported");
  }
  return s;
}

QuantSpec activation_spec_from_args(const nlohmann::json& args, const std::string& where) {
  require_int_type(args, where);
  QuantSpec s;
  s.flavour = QuantFlavour::kCompressedTensors;
  s.bits = bits_of(args, where);
  s.symmetric = get_or<bool>(args, "symmetric", true);
  const std::string strategy = get_or<std::string>(args, "strategy", "tensor");
  if (strategy == "token") {
    s.granularity = Granularity::kPerToken;
  } else if (strategy == "tensor") {
    s.granularity = Granularity::kPerTensor;
  } else {
    throw UnsupportedError(where + ": activation strategy '" + strategy +
                           "' is not supported (token, tensor)");
  }
  const nlohmann::json dynamic = args.value("dynamic", nlohmann::json(false));
  if (!(dynamic.is_boolean() && dynamic.get<bool>())) {
    throw UnsupportedError(where +
                           ": static activation quantization (input_scale from calibration) "
                           "is not supported yet; only dynamic activations are");
  }
  return s;
}

}  // namespace slmq::ct
