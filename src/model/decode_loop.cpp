#include "slmq/model/decode_loop.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "slmq/core/error.h"
#include "slmq/kernels/cpu_decode_ops.h"
#include "slmq/model/kv_cache.h"
#include "slmq/model/model.h"

namespace slmq {
namespace {

const float* float_data(const at::Tensor& t) { return t.data_ptr<float>(); }

bool plain_float(const at::Tensor& t) {
  return t.defined() && t.scalar_type() == at::kFloat && t.device().is_cpu() && t.is_contiguous();
}

}  // namespace

namespace {

// The block elements the loop implements: the Llama block (two RMSNorms, SiLU, one RoPE with
// head_dim^-0.5 scaling and no per-call frequency switch).
std::optional<std::string> unsupported_block(const Model& model) {
  const auto& c = model.config();
  if (c.activation != Activation::kSilu) return "activation " + c.hidden_act + " (SiLU only)";
  if (c.norm_kind != NormKind::kRms) return std::string("(1 + w) norms (plain RMSNorm only)");
  if (c.embedding_multiplier || c.final_logit_softcapping || c.query_pre_attn_scalar)
    return std::string("embedding multiplier, soft-capping or attention scalar");
  if (c.local_rope || c.rope.type == "longrope" || c.rope.partial_rotary_factor != 1.0)
    return std::string("per-layer, LongRoPE or partial rotary embeddings");
  for (NormRole role : {NormRole::kAttnOut, NormRole::kMlpOut, NormRole::kQ, NormRole::kK}) {
    if (model.arch().has_norm(role))
      return std::string("the ") + to_string(role) + " norm of " + c.architecture;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> DecodeLoop::unsupported_reason(const Model& model) {
  const auto& c = model.config();
  if (!model.device().is_cpu()) return std::string("not on the CPU");
  if (model.dtype() != at::kFloat) return std::string("compute dtype is not float32");
  if (auto reason = unsupported_block(model)) return reason;
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0)
    return std::string("heads not a multiple of key/value heads");
  if (!plain_float(model.embed_tokens()) || !plain_float(model.final_norm()))
    return std::string("embedding or final norm not a contiguous float32 CPU tensor");
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const DecoderLayer& layer = model.layer(i);
    if (layer.attention_transform() != nullptr)
      return "layer " + std::to_string(i) + " has an attention transform (" +
             layer.attention_transform()->describe() + ")";
    const auto& w = layer.weights();
    if (!plain_float(w.norm(NormRole::kAttnIn)) || !plain_float(w.norm(NormRole::kMlpIn)))
      return "layer " + std::to_string(i) + " norms not contiguous float32 CPU tensors";
  }
  return std::nullopt;
}

DecodeLoop::DecodeLoop(const Model& model) : model_(model) {
  if (auto reason = unsupported_reason(model)) throw UnsupportedError("decode loop: " + *reason);
  const auto& c = model.config();
  hidden_ = c.hidden_size;
  heads_ = c.num_heads;
  kv_heads_ = c.num_kv_heads;
  head_dim_ = c.head_dim;
  intermediate_ = c.intermediate_size;
  vocab_ = c.vocab_size;
  eps_ = static_cast<float>(c.rms_norm_eps);
  scale_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim_)));
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const DecoderLayer& layer = model.layer(i);
    const auto& w = layer.weights();
    layers_.push_back({float_data(w.norm(NormRole::kAttnIn)), float_data(w.norm(NormRole::kMlpIn)),
                       &w.linear(LinearRole::kQ), &w.linear(LinearRole::kK),
                       &w.linear(LinearRole::kV), &w.linear(LinearRole::kO),
                       &w.linear(LinearRole::kGate), &w.linear(LinearRole::kUp),
                       &w.linear(LinearRole::kDown), layer.sliding_window().value_or(0)});
  }
  for (const auto& [name, linear] : model.linears())
    if (name == "lm_head") head_ = linear;
  if (head_ == nullptr) throw InternalError("decode loop: the model has no lm_head");
}

void DecodeLoop::ensure_rope(int64_t positions) {
  if (positions <= rope_positions_) return;
  const int64_t n = std::max(positions, 2 * rope_positions_);
  // The model's own cos/sin, so the rotation uses exactly the values its forward uses.
  at::Tensor ids = at::arange(n, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
  AttentionContext ctx = model_.causal_attention_context(ids);
  at::Tensor cos = ctx.rope.at(0).first.reshape({n, head_dim_}).contiguous();
  at::Tensor sin = ctx.rope.at(0).second.reshape({n, head_dim_}).contiguous();
  cos_.assign(cos.data_ptr<float>(), cos.data_ptr<float>() + n * head_dim_);
  sin_.assign(sin.data_ptr<float>(), sin.data_ptr<float>() + n * head_dim_);
  rope_positions_ = n;
}

const float* DecodeLoop::step(const std::vector<int64_t>& tokens, KVCache& cache) {
  const int64_t batch = cache.batch(), slot = cache.length();
  if (static_cast<int64_t>(tokens.size()) != batch)
    throw InternalError("decode loop: one token per cache row expected");
  cache.reserve(slot + 1);
  const int64_t cap = cache.capacity(), q_width = heads_ * head_dim_,
                kv_width = kv_heads_ * head_dim_;
  auto fit = [](std::vector<float>& v, int64_t n) {
    if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  };
  fit(x_, batch * hidden_);
  fit(h_, batch * hidden_);
  fit(o_, batch * hidden_);
  fit(q_, batch * q_width);
  fit(attn_, batch * q_width);
  fit(k_, batch * kv_width);
  fit(v_, batch * kv_width);
  fit(gate_, batch * intermediate_);
  fit(up_, batch * intermediate_);
  fit(logits_, batch * vocab_);
  fit(scores_, slot + 1);

  const int64_t* next = cache.next_position().data_ptr<int64_t>();
  ensure_rope(*std::max_element(next, next + batch) + 1);
  const float* embed = model_.embed_tokens().data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b) {
    if (tokens[b] < 0 || tokens[b] >= vocab_)
      throw InternalError("decode loop: token id outside the vocabulary");
    std::memcpy(&x_[b * hidden_], embed + tokens[b] * hidden_, hidden_ * sizeof(float));
  }
  const auto* valid = reinterpret_cast<const uint8_t*>(cache.valid_data());
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    for (int64_t b = 0; b < batch; ++b)
      kernels::rms_norm_row(&x_[b * hidden_], L.input_norm, hidden_, eps_, &h_[b * hidden_]);
    L.q->forward_into(h_.data(), batch, q_.data());
    L.k->forward_into(h_.data(), batch, k_.data());
    L.v->forward_into(h_.data(), batch, v_.data());
    float* keys = cache.keys_data(static_cast<int64_t>(l));
    float* values = cache.values_data(static_cast<int64_t>(l));
    const int64_t first = L.window > 0 ? std::max<int64_t>(0, slot - L.window + 1) : 0;
    for (int64_t b = 0; b < batch; ++b) {
      const float* cos = &cos_[next[b] * head_dim_];
      const float* sin = &sin_[next[b] * head_dim_];
      kernels::rope_rotate_half(&q_[b * q_width], heads_, head_dim_, cos, sin);
      kernels::rope_rotate_half(&k_[b * kv_width], kv_heads_, head_dim_, cos, sin);
      for (int64_t g = 0; g < kv_heads_; ++g) {
        const int64_t at = ((b * kv_heads_ + g) * cap + slot) * head_dim_;
        std::memcpy(keys + at, &k_[b * kv_width + g * head_dim_], head_dim_ * sizeof(float));
        std::memcpy(values + at, &v_[b * kv_width + g * head_dim_], head_dim_ * sizeof(float));
      }
      const int64_t row = b * kv_heads_ * cap * head_dim_;
      kernels::attend_one_query(&q_[b * q_width], heads_, kv_heads_, head_dim_, keys + row,
                                values + row, cap, first, slot, valid + b * cap, scale_,
                                scores_.data(), &attn_[b * q_width]);
    }
    L.o->forward_into(attn_.data(), batch, o_.data());
    kernels::add_into(x_.data(), o_.data(), batch * hidden_);
    for (int64_t b = 0; b < batch; ++b) {
      kernels::rms_norm_row(&x_[b * hidden_], L.post_attention_norm, hidden_, eps_,
                            &h_[b * hidden_]);
    }
    L.gate->forward_into(h_.data(), batch, gate_.data());
    L.up->forward_into(h_.data(), batch, up_.data());
    kernels::silu_mul(gate_.data(), up_.data(), batch * intermediate_);
    L.down->forward_into(gate_.data(), batch, o_.data());
    kernels::add_into(x_.data(), o_.data(), batch * hidden_);
  }
  const float* final_norm = model_.final_norm().data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b)
    kernels::rms_norm_row(&x_[b * hidden_], final_norm, hidden_, eps_, &h_[b * hidden_]);
  head_->forward_into(h_.data(), batch, logits_.data());
  cache.advance_all_valid();
  return logits_.data();
}

}  // namespace slmq
