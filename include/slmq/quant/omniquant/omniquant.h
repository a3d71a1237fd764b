#pragma once
// OmniQuant over a whole model (quantize/omniquant.py's layer loop, specs/quant_methods.md §5):
// from layer 0's inputs, block by block —
//   1. the FP block's outputs on the FP chain's inputs (the training targets; they become the
//      FP chain's next inputs), recording the act scales of LET's keyed linears on the way
//      (generate_act_scale_shift.py's per-channel abs-max of the FP model, same windows);
//      with aug_loss also the FP block's outputs on the quantized chain's inputs;
//   2. LET scales from the act scales, LWC factors at 4.0;
//   3. training (trainer.h) when epochs > 0;
//   4. fold: LET into weights and norms, LWC quantization; the quantized chain's next inputs are
//      this quantized block's outputs (quant_out);
//   5. the layer gets FakeQuantLinears, its folded norms and, in the official flavour with
//      quantized activations, the Q/K/V quantizer.
// Only two or three [N,T,C] buffers live at a time (FP chain, quantized chain, aug targets).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "slmq/model/model.h"
#include "slmq/quant/omniquant/let.h"
#include "slmq/quant/omniquant/options.h"
#include "slmq/quant/omniquant/trainer.h"
#include "slmq/quant/quant_method.h"

namespace slmq::omniquant {

struct Settings {
  OmniquantOptions options;
  QuantScheme scheme;  // weight: omniquant/llmc flavour, per_channel or per_group; activation:
                       // none or per_token dynamic
  // false: every block trains on the FP chain's inputs (LLMC quant_out: False).
  bool propagate_quantized = true;
  // Keep every block's learned parameters and quantized weights in the result (tests).
  bool keep_parameters = false;
};

struct BlockRecord {
  BlockTraining training;
  std::map<std::string, at::Tensor> parameters;                // keep_parameters only
  std::map<std::string, QuantizedWeight> quantized;            // keep_parameters only
  std::map<std::string, std::pair<double, double>> let_range;  // LET scale min, max
};

struct Result {
  std::vector<BlockRecord> blocks;
  std::vector<LayerQuantStats> layers;  // each linear against its folded FP weight
  LetPlan plan;
  bool let = false, lwc = false, qkv_quantized = false;
  c10::ScalarType train_dtype = c10::kFloat;
  std::optional<c10::ScalarType> autocast;
  int64_t optimizer_steps = 0;
  double fp_target_seconds = 0;  // FP block forwards (targets, aug targets, act scales)
  double act_scale_seconds = 0;  // of which recording the act scales
  double training_seconds = 0;
  double training_cpu_seconds = 0;  // process CPU time of the training (BlockTraining)
  double folding_seconds = 0;       // fold, quantization and install
  double quant_chain_seconds = 0;   // quantized block forwards (the next block's inputs)
  int64_t peak_device_bytes = 0;    // CUDA allocator peak during the run (0 on CPU)

  // {flavour, transforms: {lwc, let, s_qkv..., skipped}, training: {...}, blocks: [...]}
  nlohmann::json to_json(const Settings& settings) const;
};

// The training dtype: fp64 for an fp64 model (reference tests), fp32 otherwise.
c10::ScalarType training_dtype(c10::ScalarType model_dtype);
// CUDA autocast dtype for a scheme: none when a bit width is in [8, 16) (the official code
// forces fp32 there), on CPU, or for an fp64 model; float16 otherwise.
std::optional<c10::ScalarType> autocast_dtype(const QuantScheme& scheme, c10::Device device,
                                              c10::ScalarType model_dtype);

// Quantizes every decoder layer of `model` in place. inputs [N,T,C]: layer 0's inputs (the
// embedded windows, unpadded), any float dtype, on the model's device. Throws UnsupportedError
// for settings the method cannot run (see OmniquantMethod::unsupported_reason).
Result quantize_blocks(Model& model, const at::Tensor& inputs, const Settings& settings);

}  // namespace slmq::omniquant
