#include "slmq/quant/backends/int8_activation.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "slmq/core/error.h"
#include "slmq/kernels/cpu_qlinear.h"

namespace slmq {
namespace {

// The zero point every row gets: symmetric flavours' constant (0, or 2^(b-1) for GPTQ), or the
// calibrated one of a static quantizer.
std::optional<int64_t> zero_point(const QuantSpec& spec, const QuantParams* static_params) {
  if (static_params) {
    // A non-zero static zero point is added before rounding by some flavours, which can round a
    // tie differently from the kernel's round-then-shift: only zero-centred ones take this route.
    if (static_params->zero.numel() != 1 || static_params->scale.numel() != 1 ||
        static_params->zero.item<double>() != 0.0)
      return std::nullopt;
    return int64_t{0};
  }
  switch (spec.flavour) {
    case QuantFlavour::kGptq:
      return int64_t{128};
    case QuantFlavour::kOmniquant:
      return int64_t{127};
    default:
      return int64_t{0};
  }
}

}  // namespace

std::optional<std::string> Int8ActivationQuantizer::unsupported_reason(
    const QuantSpec& spec, const QuantParams* static_params) {
  if (spec.bits != 8) return fmt::format("{}-bit activations (int8 kernels only)", spec.bits);
  if (spec.dynamic && !spec.symmetric) return std::string("asymmetric dynamic activations");
  if (spec.dynamic && spec.granularity != Granularity::kPerToken &&
      spec.granularity != Granularity::kPerTensor)
    return "activation granularity " + to_string(spec.granularity);
  if (!spec.dynamic && !static_params) return std::string("static activations without parameters");
  const auto zero = zero_point(spec, static_params);
  if (!zero)
    return std::string("static activation parameters that are not per-tensor with zero point 0");
  const CodeRange r = code_range(spec);
  if (r.min - *zero < -128 || r.max - *zero > 127)
    return fmt::format("codes minus zero point [{}, {}] do not fit int8", r.min - *zero,
                       r.max - *zero);
  return std::nullopt;
}

Int8ActivationQuantizer::Int8ActivationQuantizer(QuantSpec spec,
                                                 std::optional<QuantParams> static_params)
    : spec_(std::move(spec)), static_params_(std::move(static_params)) {
  const QuantParams* sp = static_params_ ? &*static_params_ : nullptr;
  if (auto reason = unsupported_reason(spec_, sp)) throw UnsupportedError(*reason);
  const int64_t zero = *zero_point(spec_, sp);
  lo_ = static_cast<int>(code_range(spec_).min - zero);
  hi_ = static_cast<int>(code_range(spec_).max - zero);
}

// Each branch repeats the fp32 operations of qparams_from_range for a symmetric activation
// quantizer (quantizer.cpp), in the same order, so the scale is the same float.
float Int8ActivationQuantizer::scale_of(float min, float max) const {
  if (includes_zero(spec_, QuantRole::kActivation)) {
    min = std::min(min, 0.0f);
    max = std::max(max, 0.0f);
  }
  if (spec_.clip_ratio != 1.0) {
    const auto clip = static_cast<float>(spec_.clip_ratio);
    min *= clip;
    max *= clip;
  }
  switch (spec_.flavour) {
    case QuantFlavour::kGptq: {
      float hi = std::max(std::fabs(min), max);
      float lo = min < 0 ? -hi : min;
      if (lo == 0 && hi == 0) lo = -1, hi = 1;
      return (hi - lo) / 255.0f;
    }
    case QuantFlavour::kCompressedTensors: {
      const float s = std::max(std::fabs(min), std::fabs(max)) / 127.5f;
      return s == 0 ? std::numeric_limits<float>::epsilon() : s;
    }
    case QuantFlavour::kQuarot: {
      const float m = std::max(std::fabs(min), max);
      return m == 0 ? 1.0f : m / 127.0f;
    }
    case QuantFlavour::kLlmc:
    case QuantFlavour::kAwq:
      return std::max(std::max(std::fabs(min), std::fabs(max)), 1e-5f) / 127.0f;
    case QuantFlavour::kOmniquant:
      break;
  }
  throw InternalError("Int8ActivationQuantizer: no scale formula for " + to_string(spec_.flavour));
}

Int8ActivationQuantizer::Result Int8ActivationQuantizer::quantize(const at::Tensor& x,
                                                                  int64_t group) const {
  const int64_t m = x.size(0), c = x.size(1);
  Result r;
  r.scales = at::empty({m}, x.options());
  r.codes = at::empty({m, c}, x.options().dtype(at::kChar));
  r.group_sums = at::empty({m, c / group}, x.options().dtype(at::kInt));
  quantize_into(x.data_ptr<float>(), m, c, group, r.codes.data_ptr<int8_t>(),
                r.scales.data_ptr<float>(), r.group_sums.data_ptr<int32_t>());
  return r;
}

void Int8ActivationQuantizer::quantize_into(const float* x, int64_t m, int64_t c, int64_t group,
                                            int8_t* codes, float* scales,
                                            int32_t* group_sums) const {
  if (static_params_) {
    std::fill(scales, scales + m, static_params_->scale.item<float>());
  } else {
    thread_local std::vector<float> mins, maxs;
    mins.resize(m);
    maxs.resize(m);
    kernels::row_min_max(x, m, c, mins.data(), maxs.data());
    if (spec_.granularity == Granularity::kPerTensor) {
      const float lo = *std::min_element(mins.begin(), mins.end());
      const float hi = *std::max_element(maxs.begin(), maxs.end());
      std::fill(scales, scales + m, scale_of(lo, hi));
    } else {
      for (int64_t i = 0; i < m; ++i) scales[i] = scale_of(mins[i], maxs[i]);
    }
  }
  kernels::quantize_rows_int8(x, m, c, scales, lo_, hi_, group, codes, group_sums);
}

}  // namespace slmq
