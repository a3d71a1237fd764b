#include "slmq/quant/quantize_linear.h"

#include <ATen/ATen.h>

#include "slmq/core/timing.h"
#include "slmq/quant/scale_folding.h"

namespace slmq {

FakeQuantLinear& quantize_into_fake_quant(const std::string& name,
                                          std::unique_ptr<LinearBackend>& slot,
                                          c10::ScalarType compute_dtype, const QuantConfig& config,
                                          QuantReport& report, QuantizeTimings& timings) {
  const DenseLinear& dense = dense_linear(slot, name);
  auto t0 = SteadyClock::now();
  QuantizedWeight q = quantize_weight(dense.weight(), config.scheme.weight);
  timings.quantize += seconds_since(t0);
  t0 = SteadyClock::now();
  report.layers.push_back(weight_error_stats(name, dense.weight(), dequantize(q)));
  timings.error_stats += seconds_since(t0);
  report.linear_bytes_before += dense.bytes();
  auto replacement = std::make_unique<FakeQuantLinear>(std::move(q), dense.bias(), compute_dtype,
                                                       config.scheme.activation);
  report.linear_bytes_after += replacement->bytes();
  FakeQuantLinear& out = *replacement;
  slot = std::move(replacement);
  return out;
}

}  // namespace slmq
