#pragma once
// What one quantizer does: bit width, symmetry, granularity, and the reference repository whose
// scale / zero-point / range formulas it reproduces (specs/quant_methods.md §1). Parsed and
// validated from the `weight:` / `activation:` mappings of a run config's `quant:` block.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "slmq/calib/calibration_config.h"
#include "slmq/core/error.h"
#include "slmq/quant/kv_quant_config.h"
#include "slmq/quant/method_options.h"
#include "slmq/quant/quant_flavour.h"

namespace slmq {

class ConfigNode;

enum class Granularity {
  kPerTensor,   // one (scale, zero) for the whole tensor
  kPerChannel,  // weights: one per output row
  kPerGroup,    // weights: one per output row and `group_size` consecutive input columns
  kPerToken,    // activations: one per token vector (over the last dim), computed at run time
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
//     method: rtn                     # a registered method (method_registry.h)
//     scheme: w4a16                   # optional preset filling weight/activation
//     weight: {bits, symmetric, granularity, group_size, flavour, clip_ratio}
//     activation: {bits, symmetric, granularity, flavour, clip_ratio, dynamic}  # or `none`
//     quantize_lm_head: false
//     quantize_embedding: false       # the token-embedding table too (embedding_quant.h)
//     calibration: {source, format, text_field, sampling, nsamples, seqlen, seed, shuffle,
//                   max_document_tokens, batch_size, propagate}   # calibrating methods
//     <method>: {...}                 # the method's own options, e.g. gptq: {act_order: true}
//     kv: {k_bits, v_bits, group_size, symmetric, clip_ratio}   # every method (kv_quant_config.h)
struct QuantConfig {
  std::string method = "rtn";
  QuantScheme scheme;
  bool quantize_lm_head = false;
  bool quantize_embedding = false;  // weight-only, with `scheme.weight` (embedding_quant.h)
  CalibrationConfig calibration;    // the method's registered defaults unless configured
  // The `quant.<method>:` block as the method's registration parsed it (its defaults when the
  // block is absent); null for a method without options.
  std::shared_ptr<const MethodOptions> method_options;

  // The method's options struct: `config.options<GptqOptions>()`. Defaults when none were
  // parsed (a QuantConfig built in code); InternalError when they are of another type.
  template <class T>
  const T& options() const;

  // KV-cache quantization, for every method (`kv:`; quantizes nothing by default).
  KvQuantConfig kv;

  // Whether the method draws calibration windows: its registration has calibration defaults and
  // its options do not turn them off (MethodOptions::uses_calibration: QuaRot with RTN weights).
  bool uses_calibration() const;

  nlohmann::json to_json() const;
};

template <class T>
const T& QuantConfig::options() const {
  if (!method_options) {
    static const T kDefaults{};
    return kDefaults;
  }
  const auto* typed = dynamic_cast<const MethodOptionsOf<T>*>(method_options.get());
  if (typed == nullptr)
    throw InternalError("quant." + method + ": its options are not of the type asked for");
  return typed->value();
}

// Validates the whole block; every error is a ConfigError naming the key path
// ("quant.weight.bits").
QuantConfig parse_quant_section(const ConfigNode& node);

}  // namespace slmq
