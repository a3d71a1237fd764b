#pragma once
// SmoothQuant (mit-han-lab/smoothquant; llm-compressor's SmoothQuantModifier as a variant,
// specs/quant_methods.md §2): per-channel statistics of the input of every norm-led fold group of
// the architecture (Llama: input_layernorm -> q, k, v and post_attention_layernorm -> gate, up;
// Gemma-3: pre_feedforward_layernorm for the MLP) of the full-precision model over the calibration
// windows, smoothing factors s folded into the norms (÷ s) and the group's linears' input columns
// (· s), then every target linear quantized with the configured weight quantizer and dynamic
// activation quantizer (default W8A8: llmc flavour = smoothquant's fake_quant).
#include <map>
#include <string>
#include <vector>

#include "slmq/quant/methods/transform_then_quantize.h"

namespace slmq {

struct SmoothedLayer {
  // [C] fp32 per fold group name ("attn_in": input norm -> q, k, v; "mlp_in": MLP norm -> gate, up)
  std::map<std::string, at::Tensor> scales;
};

struct SmoothingResult {
  std::vector<SmoothedLayer> layers;
  double capture_seconds = 0;     // embedding and layer forwards over the windows
  double statistics_seconds = 0;  // per-channel statistics (inside the forwards' hooks)
  double smoothing_seconds = 0;   // scales and folding

  nlohmann::json summary() const;  // per layer: min and max of each group's scales
};

// Smooths every decoder layer in place with the smoothquant options (the model's function is
// unchanged up to rounding). Statistics come from the layers as they were before smoothing.
// InternalError for empty calibration data.
SmoothingResult smooth_model(Model& model, const QuantConfig& config, const CalibrationData& calib);

class SmoothQuantMethod final : public TransformThenQuantizeMethod {
 public:
  std::string name() const override { return "smoothquant"; }
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;

 private:
  TransformRecord transform(Model& model, const QuantConfig& config,
                            const CalibrationData& calib) const override;
  // Adds the q/k/v output quantizer when SmoothQuantOptions::quantize_bmm_input.
  void finish_linear(const Model& model, const std::string& name, FakeQuantLinear& linear,
                     const QuantConfig& config) const override;
};

}  // namespace slmq
