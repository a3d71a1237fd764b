#include "slmq/model/decoder_layer.h"

#include <ATen/ATen.h>

#include <cmath>

#include "slmq/model/kv_cache.h"
#include "slmq/model/rope.h"

namespace slmq {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor h = x.to(at::kFloat);
  at::Tensor variance = h.pow(2).mean(-1, /*keepdim=*/true);
  h = h * at::rsqrt(variance + eps);
  return weight * h.to(x.scalar_type());
}

DecoderLayer::DecoderLayer(int64_t index, DecoderLayerWeights weights, int64_t num_heads,
                           int64_t num_kv_heads, int64_t head_dim, double rms_norm_eps,
                           std::optional<int64_t> sliding_window)
    : index_(index),
      w_(std::move(weights)),
      num_heads_(num_heads),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      eps_(rms_norm_eps),
      sliding_window_(sliding_window) {}

at::Tensor DecoderLayer::forward(const at::Tensor& hidden, const AttentionContext& ctx) const {
  at::Tensor h = hidden + attention(rms_norm(hidden, w_.input_norm, eps_), ctx);
  return h + mlp(rms_norm(h, w_.post_attention_norm, eps_));
}

at::Tensor DecoderLayer::attention(const at::Tensor& x, const AttentionContext& ctx) const {
  const int64_t batch = x.size(0), steps = x.size(1);
  // [B,T,H*D] -> [B,H,T,D]
  at::Tensor q = w_.q_proj->forward(x).view({batch, steps, num_heads_, head_dim_}).transpose(1, 2);
  at::Tensor k =
      w_.k_proj->forward(x).view({batch, steps, num_kv_heads_, head_dim_}).transpose(1, 2);
  at::Tensor v =
      w_.v_proj->forward(x).view({batch, steps, num_kv_heads_, head_dim_}).transpose(1, 2);
  q = apply_rotary(q, ctx.cos, ctx.sin);
  k = apply_rotary(k, ctx.cos, ctx.sin);
  if (ctx.cache != nullptr) std::tie(k, v) = ctx.cache->append(index_, k, v);
  const at::Tensor& mask = ctx.masks.at(sliding_window_.value_or(0));
  at::Tensor out = at::scaled_dot_product_attention(
      q, k, v, mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
      /*dropout_p=*/0.0,
      /*is_causal=*/!mask.defined(),
      /*scale=*/1.0 / std::sqrt(static_cast<double>(head_dim_)),
      /*enable_gqa=*/num_heads_ != num_kv_heads_);
  out = out.transpose(1, 2).reshape({batch, steps, num_heads_ * head_dim_});
  return w_.o_proj->forward(out);
}

at::Tensor DecoderLayer::mlp(const at::Tensor& x) const {
  return w_.down_proj->forward(at::silu(w_.gate_proj->forward(x)) * w_.up_proj->forward(x));
}

std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> DecoderLayer::linears() {
  return {{"self_attn.q_proj", &w_.q_proj}, {"self_attn.k_proj", &w_.k_proj},
          {"self_attn.v_proj", &w_.v_proj}, {"self_attn.o_proj", &w_.o_proj},
          {"mlp.gate_proj", &w_.gate_proj}, {"mlp.up_proj", &w_.up_proj},
          {"mlp.down_proj", &w_.down_proj}};
}

}  // namespace slmq
