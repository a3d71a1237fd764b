#pragma once
// Dynamic (or static per-tensor) symmetric int8 activation quantization at kernel speed: the
// scales of each flavour's formula computed per row in fp32 with the same operations as
// slmq::qparams_from_range, and codes as slmq::quantize_values, so the real W8A8/W4A8 backends
// see exactly the integers the fake-quant backends round to (tests/unit/int8_activation_test).
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

#include "slmq/quant/quantizer.h"

namespace slmq {

class Int8ActivationQuantizer {
 public:
  // Why `spec` (with `static_params` for a static one) has no int8 kernel route, or nullopt
  // when it has one: symmetric 8-bit, per-token or per-tensor, and codes minus zero point within
  // [-128, 127] (every symmetric flavour but omniquant's).
  static std::optional<std::string> unsupported_reason(const QuantSpec& spec,
                                                       const QuantParams* static_params);
  // Throws UnsupportedError with the reason above.
  Int8ActivationQuantizer(QuantSpec spec, std::optional<QuantParams> static_params);

  struct Result {
    at::Tensor codes;       // [M, C] int8: code minus zero point
    at::Tensor scales;      // [M] fp32 (a per-tensor scale repeated)
    at::Tensor group_sums;  // [M, C / group] int32, Σ codes over each block of `group` columns
  };
  // x: [M, C] fp32 contiguous; group divides C.
  Result quantize(const at::Tensor& x, int64_t group) const;
  // The same into caller buffers: codes [m, c], scales [m], group_sums [m, c / group].
  void quantize_into(const float* x, int64_t m, int64_t c, int64_t group, int8_t* codes,
                     float* scales, int32_t* group_sums) const;

 private:
  // The scale of one slice from its min and max (fp32, the flavour's formula).
  float scale_of(float min, float max) const;

  QuantSpec spec_;
  std::optional<QuantParams> static_params_;
  int lo_ = -128, hi_ = 127;  // code range minus the zero point
};

}  // namespace slmq
