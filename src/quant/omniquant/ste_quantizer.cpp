#include "slmq/quant/omniquant/ste_quantizer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <limits>

#include "slmq/core/error.h"

namespace slmq::omniquant {
namespace {

double unsigned_max(const QuantSpec& s) { return static_cast<double>((int64_t{1} << s.bits) - 1); }
double half_range(const QuantSpec& s) { return static_cast<double>(int64_t{1} << (s.bits - 1)); }

void check_flavour(const QuantSpec& s, bool activation) {
  if (s.flavour == QuantFlavour::kOmniquant || s.flavour == QuantFlavour::kLlmc) return;
  if (activation && s.flavour == QuantFlavour::kCompressedTensors) return;
  throw InternalError("omniquant: quantizer flavour " + to_string(s.flavour) +
                      " is not trainable (omniquant or llmc; compressed_tensors activations)");
}

// compressed-tensors calculate_qparams on a range widened to include 0 (quantizer.cpp).
QuantParams compressed_tensors_qparams(at::Tensor min, at::Tensor max, const QuantSpec& s) {
  const double u = unsigned_max(s), h = half_range(s);
  min = at::minimum(min, at::zeros_like(min));
  max = at::maximum(max, at::zeros_like(max));
  at::Tensor scale, zero;
  if (s.symmetric) {
    scale = at::maximum(min.abs(), max.abs()) / (u / 2);
    zero = at::zeros_like(scale);
  } else {
    scale = (max - min) / u;
    zero = at::clamp(-h - min / scale, -h, h - 1);
    zero = at::where(scale == 0, at::zeros_like(zero), zero);
  }
  const double eps = std::numeric_limits<float>::epsilon();
  scale = at::where(scale == 0, at::full_like(scale, eps), scale);
  return {scale, at::round(zero).detach()};
}

}  // namespace

at::Tensor round_ste(const at::Tensor& x) { return x + (at::round(x) - x).detach(); }

QuantParams ste_qparams(const at::Tensor& min, const at::Tensor& max, const QuantSpec& s) {
  check_flavour(s, /*activation=*/true);
  if (s.flavour == QuantFlavour::kCompressedTensors) return compressed_tensors_qparams(min, max, s);
  const double u = unsigned_max(s), h = half_range(s);
  if (s.flavour == QuantFlavour::kOmniquant) {
    if (s.symmetric) {
      at::Tensor scale = (at::maximum(max.abs(), min.abs()) / (h - 1)).clamp(1e-5, 1e4);
      return {scale, at::full_like(scale, h - 1).detach()};
    }
    at::Tensor scale = ((max - min) / u).clamp(1e-5, 1e4);
    return {scale, at::round((-min / scale).clamp(-1e4, 1e4)).detach()};
  }
  if (s.symmetric) {
    at::Tensor scale = at::maximum(min.abs(), max.abs()).clamp_min(1e-5) / (h - 1);
    return {scale, at::zeros_like(scale).detach()};
  }
  at::Tensor scale = (max - min).clamp_min(1e-5) / u;
  return {scale, at::clamp(-at::round(min / scale), 0, u).detach()};
}

at::Tensor ste_fake_quant(const at::Tensor& x, const QuantParams& p, const QuantSpec& s) {
  const CodeRange r = code_range(s);
  const at::Tensor rounded = s.flavour == QuantFlavour::kCompressedTensors
                                 ? round_ste(x / p.scale + p.zero)
                                 : round_ste(x / p.scale) + p.zero;
  const at::Tensor q = at::clamp(rounded, static_cast<double>(r.min), static_cast<double>(r.max));
  return (q - p.zero) * p.scale;
}

at::Tensor fake_quant_tokens(const at::Tensor& x, const QuantSpec& s) {
  if (s.granularity != Granularity::kPerToken || !s.dynamic)
    throw InternalError("omniquant: activation quantizers are dynamic per token");
  const bool low = x.scalar_type() == at::kHalf || x.scalar_type() == at::kBFloat16;
  at::Tensor v = low ? x.to(at::kFloat) : x;
  const QuantParams p = ste_qparams(v.amin(-1, true), v.amax(-1, true), s);
  at::Tensor out = ste_fake_quant(v, p, s);
  return low ? out.to(x.scalar_type()) : out;
}

LwcQuantizer::LwcQuantizer(int64_t rows, int64_t cols, const QuantSpec& spec, bool learnable,
                           const at::TensorOptions& options)
    : rows_(rows), cols_(cols), spec_(spec) {
  check_flavour(spec, /*activation=*/false);
  if (spec.granularity == Granularity::kPerTensor || spec.granularity == Granularity::kPerToken)
    throw InternalError("omniquant: LWC weights are per_channel or per_group");
  group_ = spec.granularity == Granularity::kPerGroup ? spec.group_size : cols;
  groups_ = (cols + group_ - 1) / group_;
  if (cols % group_ != 0 && !(spec.flavour == QuantFlavour::kOmniquant && spec.symmetric))
    throw InternalError("omniquant: a ragged last group needs the symmetric omniquant quantizer");
  if (!learnable) return;
  up_ = at::full({rows * groups_, 1}, 4.0, options).requires_grad_(true);
  if (!(spec.flavour == QuantFlavour::kLlmc && spec.symmetric))
    low_ = at::full({rows * groups_, 1}, 4.0, options).requires_grad_(true);
}

std::vector<at::Tensor> LwcQuantizer::parameters() const {
  std::vector<at::Tensor> out;
  if (up_.defined()) out.push_back(up_);
  if (low_.defined()) out.push_back(low_);
  return out;
}

at::Tensor LwcQuantizer::grouped(const at::Tensor& w) const {
  at::Tensor x = w;
  if (cols_ % group_ != 0) {
    x = at::cat({w, at::zeros({rows_, groups_ * group_ - cols_}, w.options())}, 1);
  }
  return x.reshape({rows_ * groups_, group_});
}

at::Tensor LwcQuantizer::ungrouped(const at::Tensor& x) const {
  at::Tensor y = x.reshape({rows_, groups_ * group_});
  return cols_ % group_ == 0 ? y : y.narrow(1, 0, cols_);
}

QuantParams LwcQuantizer::params(const at::Tensor& wg) const {
  at::Tensor min = wg.amin(-1, true), max = wg.amax(-1, true);
  if (up_.defined()) {
    if (spec_.flavour == QuantFlavour::kLlmc && spec_.symmetric) {
      at::Tensor m = at::maximum(max.abs(), min.abs()).clamp_min(1e-5) * at::sigmoid(up_);
      min = -m;
      max = m;
    } else {
      max = at::sigmoid(up_) * max;
      min = at::sigmoid(low_) * min;
    }
  }
  return ste_qparams(min, max, spec_);
}

at::Tensor LwcQuantizer::fake_quant(const at::Tensor& w) const {
  const at::Tensor wg = grouped(w);
  return ungrouped(ste_fake_quant(wg, params(wg), spec_));
}

QuantizedWeight LwcQuantizer::quantize(const at::Tensor& w) const {
  c10::AutoGradMode no_grad(false);
  const at::Tensor wg = grouped(w);
  const QuantParams p = params(wg);
  const CodeRange r = code_range(spec_);
  at::Tensor codes = at::clamp(at::round(wg / p.scale) + p.zero, static_cast<double>(r.min),
                               static_cast<double>(r.max));
  QuantizedWeight q;
  q.codes = ungrouped(codes).to(r.min < 0 ? at::kChar : at::kByte).contiguous();
  q.scales = p.scale.reshape({rows_, groups_}).to(at::kFloat).contiguous();
  q.zeros = p.zero.reshape({rows_, groups_}).to(at::kInt).contiguous();
  q.spec = spec_;
  q.in_features = cols_;
  return q;
}

}  // namespace slmq::omniquant
