#pragma once
// AWQ (mit-han-lab/llm-awq run_awq, specs/quant_methods.md §4): layer by layer, the inputs of every
// linear are captured on the calibration windows while the full-precision layer produces the next
// layer's inputs; the activation-aware scales of four groups are searched (input_layernorm ->
// q,k,v inspecting the attention; v_proj -> o_proj only when their weights have the same shape,
// i.e. not under GQA; post_attention_layernorm -> gate,up inspecting the MLP; up_proj ->
// down_proj) and folded in, then the weights of all linears but q/k are clipped per group, and
// finally every target linear is quantized (default flavour awq: asymmetric with a zero point
// when the scheme is *_asym).
#include <string>
#include <utility>
#include <vector>

#include "slmq/quant/awq_search.h"
#include "slmq/quant/methods/transform_then_quantize.h"

namespace slmq {

struct AwqGroupResult {
  std::string name;  // attn_in, attn_out, mlp_in, mlp_out
  AwqScaleSearch search;
};

struct AwqLayerResult {
  std::vector<AwqGroupResult> groups;  // in search order; attn_out absent when skipped
  // (relative linear name, chosen max |W| [out, groups] fp32), for v, o, gate, up, down.
  std::vector<std::pair<std::string, at::Tensor>> clips;
};

struct AwqResult {
  std::vector<AwqLayerResult> layers;
  double capture_seconds = 0;       // embedding and layer forwards capturing the inputs
  double scale_search_seconds = 0;  // grid search and folding
  double clip_search_seconds = 0;

  nlohmann::json summary() const;  // chosen ratio indices per layer and group
};

// Searches and applies AWQ's scales and clips to every decoder layer in place (weights stay
// dense; quantization is the caller's). InternalError for empty calibration data.
AwqResult awq_transform(Model& model, const QuantConfig& config, const CalibrationData& calib);

class AwqMethod final : public TransformThenQuantizeMethod {
 public:
  std::string name() const override { return "awq"; }
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;

 private:
  TransformRecord transform(Model& model, const QuantConfig& config,
                            const CalibrationData& calib) const override;
};

}  // namespace slmq
