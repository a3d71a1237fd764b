#pragma once
// One decoder layer while OmniQuant works on it: its linears and norms are replaced by training
// copies (the training dtype, outside InferenceMode, so autograd can run through
// DecoderLayer::forward) and put back — or replaced by the quantized result — afterwards.
//
// Modes of forward():
//   kFloat:     the original block (no quantizer, no transform): FP targets and act scales;
//   kTrain:     LET's temporary weights and norms, LWC fake-quantized weights, activation
//               quantizers on every linear input (and on Q, K, V in the official flavour);
//   kQuantized: after fold(): the folded, quantized weights with the activation quantizers —
//               the block as the quantized model computes it (the next block's inputs).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slmq/model/decoder_layer.h"
#include "slmq/quant/omniquant/let.h"
#include "slmq/quant/omniquant/ste_quantizer.h"
#include "slmq/quant/quant_method.h"

namespace slmq::omniquant {

enum class BlockMode { kFloat, kTrain, kQuantized };

struct BlockSettings {
  OmniFlavour flavour = OmniFlavour::kOfficial;
  QuantSpec weight;                     // flavour omniquant or llmc, per_channel or per_group
  std::optional<QuantSpec> activation;  // per_token dynamic, or none (weight-only)
  bool lwc = true;
  bool let = false;
  double alpha = 0.5;
  c10::ScalarType dtype = c10::kFloat;  // training dtype
};

// Q, K (after RoPE) and V fake-quantized per head and token with the activation spec: the
// official code's QuantMatMul quantizers. Differentiable (straight-through rounding).
class QkvQuantizer final : public AttentionTransform {
 public:
  explicit QkvQuantizer(QuantSpec spec) : spec_(std::move(spec)) {}
  std::pair<at::Tensor, at::Tensor> queries_keys(const at::Tensor& q,
                                                 const at::Tensor& k) const override;
  at::Tensor values(const at::Tensor& v) const override;
  std::string describe() const override;

 private:
  QuantSpec spec_;
};

class OmniBlock {
 public:
  // Takes over `layer`'s linears (dense ones; InternalError otherwise), norms and attention
  // transform until install() or destruction. `config` and `plan` must outlive the block.
  OmniBlock(DecoderLayer& layer, const ModelConfig& config, const LetPlan& plan,
            const BlockSettings& settings);
  ~OmniBlock();
  OmniBlock(const OmniBlock&) = delete;
  OmniBlock& operator=(const OmniBlock&) = delete;

  void set_mode(BlockMode mode);
  BlockMode mode() const { return mode_; }
  // x [B,T,C] training dtype -> [B,T,C]. ctx's RoPE tables must be in the training dtype.
  at::Tensor forward(const at::Tensor& x, const AttentionContext& ctx) const;

  // While on, kFloat forwards fold the per-channel abs-max of every LET group's keyed input
  // into the act scales (generate_act_scale_shift.py's `scale`).
  void record_act_scales(bool on);
  double act_scale_seconds() const { return record_seconds_; }
  // LET scales from the recorded act scales (s_qk = 1); LWC factors exist from construction.
  void init_let();

  // kTrain: truncates the LET scales in place and rebuilds the temporary weights and norms
  // from the current parameters (smooth_and_quant_temporary). Call before every forward.
  void prepare_step();
  std::vector<at::Tensor> let_parameters() const;
  std::vector<at::Tensor> lwc_parameters() const;

  // Truncates and folds the LET scales into weights and norm gains, quantizes every weight
  // with its LWC quantizer, and switches to kQuantized (smooth_and_quant_inplace).
  void fold();
  // Puts FakeQuantLinears (weights as fold() quantized them, `model_dtype` compute, the
  // activation spec) and the folded norm gains into the layer, and the Q/K/V quantizer where
  // the flavour has one. Returns each linear's error against its folded FP weight.
  std::vector<LayerQuantStats> install(c10::ScalarType model_dtype, const std::string& prefix);

  // Learned and initial parameters by name ("s_qkv", "s_qkv.init", "self_attn.q_proj.upper",
  // "self_attn.q_proj.lower"), detached copies: for result records and tests.
  std::map<std::string, at::Tensor> parameters() const;
  // The quantized weights after fold(), by linear name.
  std::map<std::string, QuantizedWeight> quantized_weights() const;

 private:
  struct Slot;
  void use_weights(const BlockWeights& weights, bool quantize_weights);
  void restore();

  DecoderLayer& layer_;
  const ModelConfig& config_;
  const LetPlan& plan_;
  BlockSettings settings_;
  BlockMode mode_ = BlockMode::kFloat;
  std::vector<std::unique_ptr<Slot>> slots_;  // by LinearRole
  std::map<NormRole, at::Tensor> original_norms_;
  std::shared_ptr<const AttentionTransform> original_transform_;
  std::shared_ptr<const AttentionTransform> qkv_;
  BlockWeights base_;    // training-dtype copies of the originals
  BlockWeights folded_;  // after fold()
  std::map<std::string, at::Tensor> scales_, initial_scales_;
  std::map<LinearRole, at::Tensor> act_abs_max_;
  double record_seconds_ = 0;
  bool installed_ = false;
};

}  // namespace slmq::omniquant
