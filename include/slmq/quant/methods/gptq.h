#pragma once
// GPTQ as IST-DASLab gptq llama.py's llama_sequential runs it (specs/quant_methods.md §3.1): layer
// by layer on captured calibration inputs, Hessians per linear (all seven at once, or the
// architecture's true-sequential groups — Llama: [k,v,q] → [o] → [up,gate] → [down] — with
// re-captured inputs when true_sequential), the
// fasterquant solver per linear (gptq.h), each linear replaced by a FakeQuantLinear, and the next
// layer's inputs recomputed through the quantized layer.
#include "slmq/quant/quant_method.h"

namespace slmq {

class GptqMethod final : public QuantMethod {
 public:
  std::string name() const override { return "gptq"; }
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;
  bool needs_calibration() const override { return true; }
  QuantReport run(Model& model, const QuantConfig& config,
                  const CalibrationData* calib) const override;
};

// The linears quantized together, in llama.py's order: the architecture's true-sequential groups,
// or all seven at once.
std::vector<std::vector<LinearRole>> gptq_linear_groups(const Model& model, bool true_sequential);

}  // namespace slmq
