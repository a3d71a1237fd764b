#include "slmq/model/rope.h"

#include <ATen/ATen.h>

#include <cmath>

#include "slmq/core/error.h"

namespace slmq {
namespace {

// Llama 3.1 frequency-dependent scaling, in the same fp32 operations and order as transformers.
at::Tensor llama3_scaled(const at::Tensor& inv_freq, const RopeConfig& rope) {
  const double old_context = static_cast<double>(rope.original_max_position_embeddings);
  const double low_freq_wavelen = old_context / rope.low_freq_factor;
  const double high_freq_wavelen = old_context / rope.high_freq_factor;
  at::Tensor wavelen = (2 * M_PI) / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / rope.factor, inv_freq);
  at::Tensor smooth = (old_context / wavelen - rope.low_freq_factor) /
                      (rope.high_freq_factor - rope.low_freq_factor);
  at::Tensor smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
  at::Tensor is_medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return at::where(is_medium, smoothed, scaled);
}

at::Tensor factor_tensor(const std::vector<double>& factors, int64_t half, const char* what) {
  if (static_cast<int64_t>(factors.size()) != half)
    throw DataError(std::string("rope ") + what + " has " + std::to_string(factors.size()) +
                    " entries, expected rotary_dim/2 = " + std::to_string(half));
  return at::tensor(factors, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
}

}  // namespace

RotaryEmbedding::RotaryEmbedding(const RopeConfig& rope, int64_t head_dim, c10::Device device) {
  const auto dim = static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  at::Tensor exponent =
      at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / dim;
  const int64_t half = exponent.size(0);
  if (rope.type == "longrope") {
    // _compute_longrope_parameters: 1 / (ext_factors * base ** exponent).
    at::Tensor base = at::pow(rope.theta, exponent);
    inv_freq_ = (1.0 / (factor_tensor(rope.short_factor, half, "short_factor") * base)).to(device);
    long_inv_freq_ =
        (1.0 / (factor_tensor(rope.long_factor, half, "long_factor") * base)).to(device);
    original_context_ = rope.original_max_position_embeddings;
    attention_factor_ = rope.attention_factor;
    return;
  }
  inv_freq_ = 1.0 / at::pow(rope.theta, exponent);
  if (rope.type == "linear") inv_freq_ = inv_freq_ / rope.factor;
  if (rope.type == "llama3") inv_freq_ = llama3_scaled(inv_freq_, rope);
  if (rope.type == "factors")
    inv_freq_ = inv_freq_ / factor_tensor(rope.freq_factors, half, "freq_factors");
  inv_freq_ = inv_freq_.to(device);
}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cos_sin(const at::Tensor& position_ids,
                                                           c10::ScalarType dtype) const {
  const at::Tensor* inv_freq = &inv_freq_;
  if (long_inv_freq_.defined() && position_ids.numel() > 0 &&
      position_ids.max().item<int64_t>() + 1 > original_context_)
    inv_freq = &long_inv_freq_;
  // [B,T,1] * [D/2] -> [B,T,D/2]: the same single products as transformers' outer matmul.
  at::Tensor freqs = position_ids.to(at::kFloat).unsqueeze(-1) * *inv_freq;
  at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1);  // [B,1,T,D]
  at::Tensor cos = emb.cos(), sin = emb.sin();
  if (attention_factor_ != 1.0) {
    cos = cos * attention_factor_;
    sin = sin * attention_factor_;
  }
  return {cos.to(dtype), sin.to(dtype)};
}

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t rotary = cos.size(-1);
  if (rotary < x.size(-1)) {
    at::Tensor rotated = apply_rotary(x.narrow(-1, 0, rotary), cos, sin);
    return at::cat({rotated, x.narrow(-1, rotary, x.size(-1) - rotary)}, -1);
  }
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  at::Tensor rotated = at::cat({-x2, x1}, -1);
  return x * cos + rotated * sin;
}

}  // namespace slmq
