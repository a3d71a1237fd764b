#pragma once
// What one quantizer does: bit width, symmetry, granularity, and the reference repository whose
// scale / zero-point / range formulas it reproduces (specs/quant_methods.md §1). Parsed and
// validated from the `weight:` / `activation:` mappings of a run config's `quant:` block.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "slmq/calib/calibration_config.h"
#include "slmq/quant/awq_options.h"
#include "slmq/quant/gptq_options.h"
#include "slmq/quant/smoothquant_options.h"

namespace slmq {

class ConfigNode;

enum class Granularity {
  kPerTensor,   // one (scale, zero) for the whole tensor
  kPerChannel,  // weights: one per output row
  kPerGroup,    // weights: one per output row and `group_size` consecutive input columns
  kPerToken,    // activations: one per token vector (over the last dim), computed at run time
};

// Whose formulas: they differ in scale divisor, integer range, whether min/max are widened to
// include 0, epsilons and what a group size that does not divide the width does.
enum class QuantFlavour {
  kGptq,               // IST-DASLab gptq quant.py: unsigned codes, sym zero 2^(b-1), Δ=2m/(2^b-1)
  kCompressedTensors,  // llm-compressor / compressed-tensors: signed codes, Δ=m/((2^b-1)/2)
  kQuarot,             // QuaRot / SpinQuant WeightQuantizer + ActQuantizer: Δ=m/(2^(b-1)-1)
  kLlmc,               // LLMC IntegerQuantizer (also SmoothQuant's fake_quant): no 0 in range
  kOmniquant,  // OmniQuant UniformAffineQuantizer (LWC off): sym ints [-(2^(b-1)-1), 2^(b-1)]
  kAwq,        // llm-awq pseudo_quantize_tensor
};

// A weight quantizer sees a whole [out, in] matrix up front; an activation quantizer sees
// [..., hidden] inputs at run time. QuaRot's two quantizers treat zero ranges differently.
enum class QuantRole { kWeight, kActivation };

struct QuantSpec {
  int bits = 8;  // 2..8
  bool symmetric = true;
  Granularity granularity = Granularity::kPerChannel;
  int64_t group_size = 0;  // > 0 exactly when granularity is kPerGroup
  QuantFlavour flavour = QuantFlavour::kCompressedTensors;
  double clip_ratio = 1.0;  // (0, 1]: min and max are multiplied by it before the scale
  // Activations only: true = parameters from each input at run time; false = static per-tensor
  // parameters calibrated beforehand.
  bool dynamic = true;

  nlohmann::json to_json() const;
  std::string describe() const;  // "int4 sym per_group(64) compressed_tensors"
};

std::string to_string(Granularity g);
std::string to_string(QuantFlavour f);
// Throws ConfigError naming `key` for unknown names.
Granularity parse_granularity(const std::string& name, const std::string& key);
QuantFlavour parse_flavour(const std::string& name, const std::string& key);

// The flavour each method's own reference code uses: rtn -> compressed_tensors (llm-compressor),
// gptq -> gptq, awq -> awq, omniquant -> omniquant, quarot/spinquant -> quarot,
// smoothquant -> llmc (identical to smoothquant's fake_quant for symmetric 8-bit).
QuantFlavour default_flavour(const std::string& method);

// Does the flavour accept a group size that does not divide the width? (GPTQ: last group
// shorter; QuaRot weights: GPTQ's column slices, last group shorter; OmniQuant: zero padding,
// symmetric only — equivalent to a shorter last group for a symmetric range. compressed-tensors,
// LLMC, AWQ and QuaRot activations reshape or assert and fail.)
bool allows_ragged_groups(const QuantSpec& spec, QuantRole role);

// Throws ConfigError naming `path` for an inconsistent spec (bits out of 2..8, group size
// without per_group, per_token on weights, static activations that are not per_tensor, ...).
void validate(const QuantSpec& spec, QuantRole role, const std::string& path);

// Parses `bits`, `symmetric`, `granularity`, `group_size`, `flavour`, `clip_ratio` (and for
// activations `dynamic`) on top of `base`; unknown keys are ConfigErrors naming the key path.
QuantSpec parse_quant_spec(const ConfigNode& node, QuantRole role, QuantSpec base);

// A weight/activation pair, e.g. from a scheme name.
struct QuantScheme {
  QuantSpec weight;
  std::optional<QuantSpec> activation;  // none: activations stay in the compute dtype
};

// "w8a8", "w4a8", "w4a16", "w8a16", "w4a16_asym", and in general "w<2..8>a<4..8|16>[_asym]" as
// compressed-tensors' presets: weights symmetric, per-channel at 8 bits and group 128 below;
// activations symmetric per-token dynamic. `flavour` is set on both. Throws ConfigError naming
// `key`.
QuantScheme scheme_preset(const std::string& name, QuantFlavour flavour, const std::string& key);

// The `quant:` block of a run config:
//   quant:
//     method: rtn                     # rtn (gptq, smoothquant, awq later)
//     scheme: w4a16                   # optional preset filling weight/activation
//     weight: {bits, symmetric, granularity, group_size, flavour, clip_ratio}
//     activation: {bits, symmetric, granularity, flavour, clip_ratio, dynamic}  # or `activation:
//     none` quantize_lm_head: false
//     calibration: {source, format, text_field, sampling, nsamples, seqlen, seed, shuffle,
//                   max_document_tokens, batch_size, propagate}   # calibrating methods
//     gptq: {block_size, percdamp, act_order, static_groups, true_sequential}
//     smoothquant: {alpha, variant, quantize_bmm_input}
//     awq: {scale, n_grid, clip, max_shrink, n_sample_token}
struct QuantConfig {
  std::string method = "rtn";
  QuantScheme scheme;
  bool quantize_lm_head = false;
  CalibrationConfig calibration;  // default_calibration(method) unless configured
  GptqOptions gptq;
  SmoothQuantOptions smoothquant;
  AwqOptions awq;

  // Methods that draw calibration windows (all but rtn).
  bool uses_calibration() const { return method != "rtn"; }

  nlohmann::json to_json() const;
};

// Validates the whole block; every error is a ConfigError naming the key path
// ("quant.weight.bits").
QuantConfig parse_quant_section(const ConfigNode& node);

}  // namespace slmq
