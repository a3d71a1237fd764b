#pragma once
// The options blocks of QuaRot and SpinQuant runs (specs/quant_methods.md §6, §7; defaults as the
// official scripts), registered in method_registry.cpp as `quant.quarot:` and `quant.spinquant:`:
//   quarot: {r1: random_hadamard|hadamard|random|none, values: quarot|r2|none, r4: true,
//            online_fp32: false, center_embeddings: true, weights: gptq|rtn, w_clip: false,
//            seed: 0, gptq: {GPTQ's options for weights: gptq}}
//   spinquant: {the same keys (values default r2), steps: 100, lr: 1.5, batch_size: 8,
//               max_grad_norm: 1.0, train_weights: false,
//               data: {calibration mapping: source c4 | FILE (e.g. a wikitext2 train file),
//                      nsamples 800, seqlen 2048, ...}}
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "slmq/calib/calibration_config.h"
#include "slmq/quant/gptq_options.h"
#include "slmq/quant/quant_flavour.h"

namespace slmq {

class ConfigNode;
struct QuantConfig;

// What both methods share: which rotations, and how Stage B quantizes the rotated weights.
struct RotationOptions {
  // R1: random_hadamard (both references' default), hadamard (deterministic, llm-compressor's
  // "hadamard"), random (QuaRot's random orthogonal), none.
  std::string r1 = "random_hadamard";
  // Values/outputs: quarot (QuaRot's v/o Hadamards with an online cross-head Hadamard), r2
  // (SpinQuant's per-layer head_dim rotation; random Hadamard for quarot, learned for spinquant),
  // none. Default: quarot for quarot, r2 for spinquant.
  std::string values = "quarot";
  bool r4 = true;
  bool online_fp32 = false;  // QuaRot's --fp32_had (LLMC: true); SpinQuant: compute dtype
  bool center_embeddings = true;
  std::string weights = "gptq";  // Stage B weight quantizer: gptq | rtn
  bool w_clip = false;           // MSE weight-clip search (--w_clip)
  int64_t seed = 0;
  GptqOptions gptq;  // Stage B's GPTQ (weights: gptq)

  nlohmann::json to_json() const;
};

// `quant.quarot:`.
struct QuarotOptions {
  RotationOptions rotation;

  nlohmann::json to_json() const { return rotation.to_json(); }
  // QuaRot with RTN weights draws no calibration windows.
  bool uses_calibration() const { return rotation.weights == "gptq"; }
};

// `quant.spinquant:`: the rotation keys plus Stage A's Cayley SGD.
struct SpinQuantOptions {
  RotationOptions rotation = [] {
    RotationOptions r;
    r.values = "r2";
    return r;
  }();
  int64_t steps = 100;
  double lr = 1.5;
  int64_t batch_size = 8;  // global batch, accumulated one sequence at a time
  double max_grad_norm = 1.0;
  // Quantize weights during training (README: off when Stage B is GPTQ).
  bool train_weights = false;
  // Training text: SpinQuant trains on 800 sequential 2048-token blocks of WikiText-2 train (8
  // GPUs × 100 steps); without that file the default is the c4 slice, random documents, seed 0.
  CalibrationConfig data = [] {
    CalibrationConfig c;
    c.nsamples = 800;
    c.seqlen = 2048;
    return c;
  }();

  nlohmann::json to_json() const;
};

// ConfigErrors name the key path ("quant.quarot.r1").
QuarotOptions parse_quarot_section(const ConfigNode& node, QuarotOptions base);
SpinQuantOptions parse_spinquant_section(const ConfigNode& node, SpinQuantOptions base);

// The rotation options of a quarot or spinquant config (their defaults for a config built in code
// without options); InternalError for another method.
const RotationOptions& rotation_options(const QuantConfig& config);

}  // namespace slmq
