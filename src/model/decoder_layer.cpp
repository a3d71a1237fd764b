#include "slmq/model/decoder_layer.h"

#include <ATen/ATen.h>

#include <cmath>

#include "slmq/core/error.h"
#include "slmq/model/kv_cache.h"
#include "slmq/model/model_config.h"
#include "slmq/model/rope.h"

namespace slmq {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor h = x.to(at::kFloat);
  at::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
  h = h * at::rsqrt(variance + eps);
  return weight * h.to(x.scalar_type());
}

at::Tensor rms_norm_one_plus(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return (h * (1.0 + weight.to(at::kFloat))).to(x.scalar_type());
}

DecoderLayer::DecoderLayer(int64_t index, DecoderLayerWeights weights, const ModelConfig& config)
    : index_(index),
      arch_(config.arch()),
      w_(std::move(weights)),
      num_heads_(config.num_heads),
      num_kv_heads_(config.num_kv_heads),
      head_dim_(config.head_dim),
      eps_(config.rms_norm_eps),
      attention_scale_(config.attention_scale()),
      norm_kind_(config.norm_kind),
      activation_(config.activation),
      sliding_window_(config.sliding_window.at(static_cast<size_t>(index))),
      rope_index_(sliding_window_ && config.local_rope ? 1 : 0) {
  for (LinearRole role : kAllLinearRoles) {
    if (!w_.linear(role)) throw InternalError("DecoderLayer: a linear is missing");
  }
}

at::Tensor DecoderLayer::apply_norm(NormRole role, const at::Tensor& x) const {
  const at::Tensor& w = w_.norm(role);
  return norm_kind_ == NormKind::kRms ? rms_norm(x, w, eps_) : rms_norm_one_plus(x, w, eps_);
}

at::Tensor DecoderLayer::norm_gain(NormRole role) const {
  at::Tensor w = w_.norm(role).to(at::kFloat);
  return norm_kind_ == NormKind::kRms ? w : w + 1.0;
}

void DecoderLayer::set_norm_gain(NormRole role, const at::Tensor& gain) {
  at::Tensor& w = w_.norm(role);
  at::Tensor g = gain.to(at::kFloat).to(w.device());
  w = (norm_kind_ == NormKind::kRms ? g : g - 1.0).to(w.scalar_type());
}

at::Tensor DecoderLayer::forward(const at::Tensor& hidden, const AttentionContext& ctx) const {
  at::Tensor a = attention(apply_norm(NormRole::kAttnIn, hidden), ctx);
  if (has_norm(NormRole::kAttnOut)) a = apply_norm(NormRole::kAttnOut, a);
  at::Tensor h = hidden + a;
  at::Tensor m = mlp(apply_norm(NormRole::kMlpIn, h));
  if (has_norm(NormRole::kMlpOut)) m = apply_norm(NormRole::kMlpOut, m);
  return h + m;
}

at::Tensor DecoderLayer::attention(const at::Tensor& x, const AttentionContext& ctx) const {
  const int64_t batch = x.size(0), steps = x.size(1);
  // [B,T,H*D] -> [B,H,T,D]
  at::Tensor q = w_.linear(LinearRole::kQ).forward(x).view({batch, steps, num_heads_, head_dim_});
  at::Tensor k =
      w_.linear(LinearRole::kK).forward(x).view({batch, steps, num_kv_heads_, head_dim_});
  at::Tensor v = w_.linear(LinearRole::kV)
                     .forward(x)
                     .view({batch, steps, num_kv_heads_, head_dim_})
                     .transpose(1, 2);
  if (has_norm(NormRole::kQ)) q = apply_norm(NormRole::kQ, q);
  if (has_norm(NormRole::kK)) k = apply_norm(NormRole::kK, k);
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  const auto& [cos, sin] = ctx.rope.at(static_cast<size_t>(rope_index_));
  q = apply_rotary(q, cos, sin);
  k = apply_rotary(k, cos, sin);
  if (attention_transform_) {
    std::tie(q, k) = attention_transform_->queries_keys(q, k);
    v = attention_transform_->values(v);
  }
  if (ctx.cache != nullptr) std::tie(k, v) = ctx.cache->append(index_, k, v);
  const at::Tensor& mask = ctx.masks.at(sliding_window_.value_or(0));
  at::Tensor out = at::scaled_dot_product_attention(
      q, k, v, mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
      /*dropout_p=*/0.0,
      /*is_causal=*/!mask.defined(),
      /*scale=*/attention_scale_,
      /*enable_gqa=*/num_heads_ != num_kv_heads_);
  out = out.transpose(1, 2).reshape({batch, steps, num_heads_ * head_dim_});
  return w_.linear(LinearRole::kO).forward(out);
}

at::Tensor DecoderLayer::mlp(const at::Tensor& x) const {
  at::Tensor gate = w_.linear(LinearRole::kGate).forward(x);
  gate = activation_ == Activation::kSilu ? at::silu(gate) : at::gelu(gate, "tanh");
  return w_.linear(LinearRole::kDown).forward(gate * w_.linear(LinearRole::kUp).forward(x));
}

std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> DecoderLayer::linears() {
  std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> out;
  for (LinearRole role : kAllLinearRoles) out.emplace_back(arch_.hf_name(role), &w_.linear(role));
  return out;
}

std::optional<LinearRole> DecoderLayer::linear_role(const std::string& name) const {
  for (const auto& l : arch_.linear_names())
    if (l.hf == name) return l.role;
  return std::nullopt;
}

}  // namespace slmq
