#pragma once
// Quantized checkpoints in the compressed-tensors layout that vLLM and transformers (with the
// compressed-tensors package) load, and loading them back.
//
// A folder holds config.json (the source's config, "dtype" set to the model's compute dtype, and
// a "quantization_config": config_groups of targets + weights / input_activations
// QuantizationArgs, format, ignore, quantization_status "compressed"), model.safetensors and the
// tokenizer files. Per quantized linear "P":
//   pack-quantized (weight-only): P.weight_packed int32 [out, ceil(in·b/32)] (pack_int32 of
//     codes + 2^(b−1)), P.weight_scale fp32, P.weight_shape int64 [2], and for asymmetric
//     weights P.weight_zero_point int32, the zero points packed the same way along dim 0;
//   int-quantized (activations quantized too): P.weight int8 [out, in], P.weight_scale fp32,
//     P.weight_zero_point int8 (asymmetric only);
// scales are [out, groups] (group), [out, 1] (channel) or [1] (tensor), kept in fp32 so that a
// load gives back bit-identical weights. compressed_tensors_scheme.h says which quantizers
// convert exactly.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "slmq/model/model.h"
#include "slmq/model/model_loader.h"

namespace slmq {

// Writes `model` (its FakeQuantLinears compressed, dense linears and other tensors in the compute
// dtype) with `source`'s config and tokenizer, plus `extra_files` (name -> content, e.g.
// quantization.json), as a folder that appears whole or not at all. Throws DataError when `out`
// exists and is not empty, UnsupportedError naming the layer when a quantizer cannot be stored
// exactly (see compressed_tensors_scheme.h) or a linear is of another kind.
void export_compressed_tensors(const Model& model, const ModelSource& source,
                               const std::filesystem::path& out,
                               const std::map<std::string, std::string>& extra_files = {});

// The quantized-linear builder for a config.json "quantization_config" (`where` names the file for
// errors). Throws UnsupportedError for other quant_methods, statuses other than "compressed",
// formats other than pack-quantized / int-quantized / naive-quantized, and args slmquant cannot
// run; DataError for malformed entries.
// `online_transforms`: config.json's kOnlineTransformsKey entry (null when absent), whose linear
// wrappers the loader puts back and whose attention transform finish() attaches.
std::shared_ptr<const LinearLoader> make_ct_linear_loader(
    const nlohmann::json& quantization_config, const std::string& where,
    const nlohmann::json& online_transforms = nlohmann::json());

// config.json key of a rotated model's online transforms (QuaRot/SpinQuant: the rotations are
// folded into the weights, but these must run at inference): {"note", "linears": {relative linear
// name: {"mode": "full" | "across_heads", "heads", "size", "factor", "fp32"}}, "attention":
// {"hadamard_qk", "kv": {k_bits, v_bits, group_size, symmetric, clip_ratio}, "flavour"}}. The
// transforms are QuaRot's (matmul_hadU with get_hadK's factor), not compressed-tensors'
// transform_config Hadamards, which differ for sizes that are not powers of two.
inline constexpr const char* kOnlineTransformsKey = "slmquant_online_transforms";

}  // namespace slmq
