#pragma once
// OmniQuant (`quant.method: omniquant`, OpenGVLab/OmniQuant with LLMC's variant selectable,
// specs/quant_methods.md §5 and §8): learnable weight clipping and learnable equivalent
// transforms trained block by block with autograd (slmq/quant/omniquant/omniquant.h), then the
// linears become FakeQuantLinears with the learned clipping in their scales. Options: the
// `quant.omniquant:` block (slmq/quant/omniquant/options.h).
#include "slmq/quant/quant_method.h"

namespace slmq {

class OmniquantMethod final : public QuantMethod {
 public:
  std::string name() const override { return "omniquant"; }
  // Beyond the shared checks: the weight and activation quantizers must be the omniquant or llmc
  // formulas, weights per_channel or per_group, activations per_token and dynamic; lm_head is
  // not quantized; epochs > 0 needs lwc or let.
  std::optional<std::string> unsupported_reason(const Model& model,
                                                const QuantConfig& config) const noexcept override;
  bool needs_calibration() const override { return true; }
  // Throws UnsupportedError for the reasons above and for padded calibration windows.
  QuantReport run(Model& model, const QuantConfig& config,
                  const CalibrationData* calib) const override;
};

}  // namespace slmq
