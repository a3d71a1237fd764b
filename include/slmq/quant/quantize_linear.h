#pragma once
// The last step every method shares: a dense linear's (possibly transformed) weight is quantized
// with the configured weight quantizer and the linear becomes a FakeQuantLinear with the
// configured dynamic activation quantizer; its error and storage go into the report.
#include <memory>
#include <string>

#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/quant_method.h"

namespace slmq {

// Seconds spent quantizing weights and measuring their error, summed over linears.
struct QuantizeTimings {
  double quantize = 0;
  double error_stats = 0;
};

// Replaces the dense backend in `slot` (InternalError naming `name` otherwise) and returns the
// new one. Appends LayerQuantStats and adds the bytes before/after to `report`.
FakeQuantLinear& quantize_into_fake_quant(const std::string& name,
                                          std::unique_ptr<LinearBackend>& slot,
                                          c10::ScalarType compute_dtype, const QuantConfig& config,
                                          QuantReport& report, QuantizeTimings& timings);

}  // namespace slmq
