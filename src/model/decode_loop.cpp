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

bool plain_float(const at::Tensor& t) {
  return t.defined() && t.scalar_type() == at::kFloat && t.device().is_cpu() && t.is_contiguous();
}

// The block elements the loop does not implement: per-call frequency switches (LongRoPE) and
// partial rotary embeddings.
std::optional<std::string> unsupported_block(const Model& model) {
  const auto& c = model.config();
  if (c.activation != Activation::kSilu && c.activation != Activation::kGeluTanh)
    return "activation " + c.hidden_act + " (SiLU or tanh GELU only)";
  auto rope_ok = [](const RopeConfig& r) {
    return r.type != "longrope" && r.partial_rotary_factor == 1.0;
  };
  if (!rope_ok(c.rope) || (c.local_rope && !rope_ok(*c.local_rope)))
    return std::string("LongRoPE or partial rotary embeddings");
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
  const bool plain_table = model.embedding_backend() == nullptr;
  if ((plain_table && !plain_float(model.embed_tokens())) || !plain_float(model.final_norm()))
    return std::string("embedding or final norm not a contiguous float32 CPU tensor");
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const DecoderLayer& layer = model.layer(i);
    if (layer.attention_transform() != nullptr)
      return "layer " + std::to_string(i) + " has an attention transform (" +
             layer.attention_transform()->describe() + ")";
    const auto& w = layer.weights();
    for (int role = 0; role < kNormRoles; ++role) {
      const at::Tensor& n = w.norm(static_cast<NormRole>(role));
      if (n.defined() && !plain_float(n))
        return "layer " + std::to_string(i) + " norms not contiguous float32 CPU tensors";
    }
    if (!w.norm(NormRole::kAttnIn).defined() || !w.norm(NormRole::kMlpIn).defined())
      return "layer " + std::to_string(i) + " lacks a pre-attention or pre-MLP norm";
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
  scale_ = static_cast<float>(c.attention_scale());
  gelu_ = c.activation == Activation::kGeluTanh;
  // Model::embed casts the multiplier to the compute dtype (float32 here) before multiplying.
  if (c.embedding_multiplier) embed_scale_ = static_cast<float>(*c.embedding_multiplier);
  if (c.final_logit_softcapping) soft_cap_ = static_cast<float>(*c.final_logit_softcapping);
  gains_.reserve(static_cast<size_t>(model.num_layers() * kNormRoles + 1));
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const DecoderLayer& layer = model.layer(i);
    const auto& w = layer.weights();
    Layer L{{},
            &w.linear(LinearRole::kQ),
            &w.linear(LinearRole::kK),
            &w.linear(LinearRole::kV),
            &w.linear(LinearRole::kO),
            &w.linear(LinearRole::kGate),
            &w.linear(LinearRole::kUp),
            &w.linear(LinearRole::kDown),
            layer.sliding_window().value_or(0),
            layer.sliding_window() && c.local_rope ? 1 : 0};
    for (int role = 0; role < kNormRoles; ++role) {
      const at::Tensor& n = w.norm(static_cast<NormRole>(role));
      if (n.defined()) L.norm[role] = gain(n);
    }
    layers_.push_back(L);
  }
  final_gain_ = gain(model.final_norm());
  for (const auto& [name, linear] : model.linears())
    if (name == "lm_head") head_ = linear;
  if (head_ == nullptr) throw InternalError("decode loop: the model has no lm_head");
}

// The norm's gain as the model's forward applies it: w, or 1 + w computed in fp32 as
// rms_norm_one_plus does (so the product with the normalised row is the same float operation).
const float* DecodeLoop::gain(const at::Tensor& weight) {
  const float* w = weight.data_ptr<float>();
  std::vector<float> g(w, w + weight.numel());
  if (model_.config().norm_kind == NormKind::kRmsOnePlus)
    for (float& v : g) v = 1.0f + v;
  gains_.push_back(std::move(g));
  return gains_.back().data();
}

// RMSNorm of `rows` rows of `width` from x into out (out may alias x).
void DecodeLoop::norm_rows(const float* g, float* x, int64_t rows, int64_t width,
                           float* out) const {
  for (int64_t r = 0; r < rows; ++r)
    kernels::rms_norm_row(x + r * width, g, width, eps_, out + r * width);
}

void DecodeLoop::ensure_rope(int64_t positions) {
  if (positions <= rope_positions_) return;
  const int64_t n = std::max(positions, 2 * rope_positions_);
  // The model's own cos/sin, so the rotation uses exactly the values its forward uses.
  at::Tensor ids = at::arange(n, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
  AttentionContext ctx = model_.causal_attention_context(ids);
  for (size_t r = 0; r < ctx.rope.size() && r < 2; ++r) {
    at::Tensor cos = ctx.rope[r].first.reshape({n, head_dim_}).contiguous();
    at::Tensor sin = ctx.rope[r].second.reshape({n, head_dim_}).contiguous();
    cos_[r].assign(cos.data_ptr<float>(), cos.data_ptr<float>() + n * head_dim_);
    sin_[r].assign(sin.data_ptr<float>(), sin.data_ptr<float>() + n * head_dim_);
  }
  rope_positions_ = n;
}

// Stores row b's key and value vectors at `slot` and attends its queries over [first, slot].
void DecodeLoop::attend_float(KVCache& cache, int64_t layer, int64_t b, int64_t first,
                              int64_t slot) {
  const int64_t cap = cache.capacity(), q_width = heads_ * head_dim_,
                kv_width = kv_heads_ * head_dim_;
  float* keys = cache.keys_data(layer);
  float* values = cache.values_data(layer);
  for (int64_t g = 0; g < kv_heads_; ++g) {
    const int64_t at = ((b * kv_heads_ + g) * cap + slot) * head_dim_;
    std::memcpy(keys + at, &k_[b * kv_width + g * head_dim_], head_dim_ * sizeof(float));
    std::memcpy(values + at, &v_[b * kv_width + g * head_dim_], head_dim_ * sizeof(float));
  }
  const int64_t row = b * kv_heads_ * cap * head_dim_;
  const auto* valid = reinterpret_cast<const uint8_t*>(cache.valid_data()) + b * cap;
  kernels::attend_one_query(&q_[b * q_width], heads_, kv_heads_, head_dim_, keys + row,
                            values + row, cap, first, slot, valid, scale_, scores_.data(),
                            &attn_[b * q_width]);
}

// The same over packed int8 storage: the vectors are quantized as KVCache::append does.
void DecodeLoop::attend_int8(KVCache& cache, int64_t layer, int64_t b, int64_t first,
                             int64_t slot) {
  const int64_t cap = cache.capacity(), q_width = heads_ * head_dim_,
                kv_width = kv_heads_ * head_dim_, group = cache.int8_group(),
                per_vector = head_dim_ / group;
  kernels::Int8KV kv{cache.key_codes(layer), cache.key_scales(layer), cache.value_codes(layer),
                     cache.value_scales(layer), group};
  for (int64_t g = 0; g < kv_heads_; ++g) {
    const int64_t at = (b * kv_heads_ + g) * cap + slot;
    kernels::quantize_kv_int8(&k_[b * kv_width + g * head_dim_], head_dim_, group,
                              cache.key_codes(layer) + at * head_dim_,
                              cache.key_scales(layer) + at * per_vector);
    kernels::quantize_kv_int8(&v_[b * kv_width + g * head_dim_], head_dim_, group,
                              cache.value_codes(layer) + at * head_dim_,
                              cache.value_scales(layer) + at * per_vector);
  }
  const int64_t row = b * kv_heads_ * cap;
  kv.key_codes += row * head_dim_;
  kv.value_codes += row * head_dim_;
  kv.key_scales += row * per_vector;
  kv.value_scales += row * per_vector;
  const auto* valid = reinterpret_cast<const uint8_t*>(cache.valid_data()) + b * cap;
  kernels::attend_one_query_int8(&q_[b * q_width], heads_, kv_heads_, head_dim_, kv, cap, first,
                                 slot, valid, scale_, scores_.data(), &attn_[b * q_width]);
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
  for (int64_t b = 0; b < batch; ++b) {
    if (tokens[b] < 0 || tokens[b] >= vocab_)
      throw InternalError("decode loop: token id outside the vocabulary");
    model_.embedding_row_into(tokens[b], &x_[b * hidden_]);  // dequantized when quantized
  }
  if (embed_scale_ != 0)
    for (int64_t i = 0; i < batch * hidden_; ++i) x_[i] *= embed_scale_;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    norm_rows(L.norm[int(NormRole::kAttnIn)], x_.data(), batch, hidden_, h_.data());
    L.q->forward_into(h_.data(), batch, q_.data());
    L.k->forward_into(h_.data(), batch, k_.data());
    L.v->forward_into(h_.data(), batch, v_.data());
    if (const float* g = L.norm[int(NormRole::kQ)])
      norm_rows(g, q_.data(), batch * heads_, head_dim_, q_.data());
    if (const float* g = L.norm[int(NormRole::kK)])
      norm_rows(g, k_.data(), batch * kv_heads_, head_dim_, k_.data());
    const int64_t first = L.window > 0 ? std::max<int64_t>(0, slot - L.window + 1) : 0;
    for (int64_t b = 0; b < batch; ++b) {
      const float* cos = &cos_[L.rope][next[b] * head_dim_];
      const float* sin = &sin_[L.rope][next[b] * head_dim_];
      kernels::rope_rotate_half(&q_[b * q_width], heads_, head_dim_, cos, sin);
      kernels::rope_rotate_half(&k_[b * kv_width], kv_heads_, head_dim_, cos, sin);
      if (cache.storage() == KvStorage::kInt8)
        attend_int8(cache, static_cast<int64_t>(l), b, first, slot);
      else
        attend_float(cache, static_cast<int64_t>(l), b, first, slot);
    }
    L.o->forward_into(attn_.data(), batch, o_.data());
    if (const float* g = L.norm[int(NormRole::kAttnOut)])
      norm_rows(g, o_.data(), batch, hidden_, o_.data());
    kernels::add_into(x_.data(), o_.data(), batch * hidden_);
    norm_rows(L.norm[int(NormRole::kMlpIn)], x_.data(), batch, hidden_, h_.data());
    L.gate->forward_into(h_.data(), batch, gate_.data());
    L.up->forward_into(h_.data(), batch, up_.data());
    if (gelu_)
      kernels::gelu_tanh_mul(gate_.data(), up_.data(), batch * intermediate_);
    else
      kernels::silu_mul(gate_.data(), up_.data(), batch * intermediate_);
    L.down->forward_into(gate_.data(), batch, o_.data());
    if (const float* g = L.norm[int(NormRole::kMlpOut)])
      norm_rows(g, o_.data(), batch, hidden_, o_.data());
    kernels::add_into(x_.data(), o_.data(), batch * hidden_);
  }
  norm_rows(final_gain_, x_.data(), batch, hidden_, h_.data());
  head_->forward_into(h_.data(), batch, logits_.data());
  if (soft_cap_ != 0) kernels::soft_cap(logits_.data(), batch * vocab_, soft_cap_);
  cache.advance_all_valid();
  return logits_.data();
}

}  // namespace slmq
