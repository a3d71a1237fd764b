#pragma once
// The mapping between slmquant's quantizers and compressed-tensors' QuantizationArgs, and the
// conversion of one quantized weight into the integers compressed-tensors stores.
//
// compressed-tensors dequantizes W = (q − z)·Δ with signed codes q in [−2^(b−1), 2^(b−1)−1] and,
// for asymmetric weights, signed zero points in the same range. Every slmquant flavour has the
// same dequantization formula; only the code range differs. Unsigned flavours (GPTQ, OmniQuant,
// asymmetric AWQ/LLMC/QuaRot) become signed by subtracting 2^(b−1) from codes and zero points,
// which leaves q − z, and so every dequantized weight, bit-identical. So:
//   compressed_tensors, quarot/llmc/awq symmetric: stored as they are (symmetric);
//   gptq symmetric (zero 2^(b−1)): symmetric after the shift;
//   omniquant symmetric (zero 2^(b−1)−1): the shifted zero is −1, stored as asymmetric;
//   asymmetric flavours: asymmetric, when every shifted zero point fits the signed b-bit range
//   (OmniQuant's asymmetric zero points may not: it does not widen the range to include 0).
// What cannot be stored exactly is an UnsupportedError naming the layer: a last group shorter
// than the group size (compressed-tensors requires full groups), zero points out of range, and
// activation quantizers other than compressed-tensors' dynamic per-token / per-tensor formula
// (the loaders recompute activation scales at run time with that formula).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "slmq/export/compressed_tensors_config.h"
#include "slmq/quant/packed_weight.h"
#include "slmq/quant/quant_spec.h"

namespace slmq::ct {

// One weight in compressed-tensors' integers.
struct CtWeight {
  bool symmetric = true;
  at::Tensor codes;   // [out, in] int8, signed
  at::Tensor zeros;   // [out, groups] int8, signed; undefined when symmetric
  at::Tensor scales;  // fp32: [out, groups] (group), [out, 1] (channel), [1] (tensor)
};

// Throws UnsupportedError naming `layer` when the weight cannot be stored exactly.
CtWeight to_ct_weight(const PackedWeight& w, const std::string& layer);

// pack-quantized tensors: signed codes [out, in] -> weight_packed; signed zero points
// [out, groups] -> weight_zero_point packed along dim 0 ([ceil(out·b/32), groups] int32) for
// group and channel strategies, as they are (int8 [1]) for tensor.
at::Tensor pack_codes(const at::Tensor& codes, int bits);
at::Tensor pack_zero_points(const at::Tensor& zeros, const QuantSpec& spec);
// The reverse: int32 [out, groups] signed.
at::Tensor unpack_zero_points(const at::Tensor& stored, const QuantSpec& spec, int64_t out,
                              int64_t groups);

// QuantizationArgs of weights ("symmetric" from to_ct_weight's decision) and of dynamic input
// activations (UnsupportedError naming `layer` for what compressed-tensors cannot express).
nlohmann::json weight_args(const QuantSpec& spec, bool symmetric);
nlohmann::json activation_args(const QuantSpec& spec, const std::string& layer);

// pack-quantized for weight-only schemes, int-quantized when activations are quantized (the
// choice compressed-tensors' infer_module_format makes).
std::string format_for(bool has_activations);

}  // namespace slmq::ct
