#pragma once
// One pre-norm decoder block (Llama / Qwen2 / Mistral): RMSNorm, rotary GQA self-attention,
// residual, RMSNorm, SwiGLU MLP, residual.
#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slmq/model/linear_backend.h"

namespace slmq {

class KVCache;

// What every layer of one forward call shares.
struct AttentionContext {
  at::Tensor cos, sin;  // [B,1,T,D] compute dtype
  // Allowed (query, key) pairs, [B,1,T,S] bool, keyed by sliding window (0 = full attention).
  // An undefined mask means plain causal attention over the call's own tokens (no cache), which
  // lets SDPA skip the masked half instead of reading a mask.
  std::map<int64_t, at::Tensor> masks;
  KVCache* cache = nullptr;
};

// x [..., C] -> RMSNorm(x) * weight, normalised in fp32 and cast back as transformers does.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

struct DecoderLayerWeights {
  at::Tensor input_norm;           // [C]
  at::Tensor post_attention_norm;  // [C]
  std::unique_ptr<LinearBackend> q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj;
};

class DecoderLayer {
 public:
  DecoderLayer(int64_t index, DecoderLayerWeights weights, int64_t num_heads, int64_t num_kv_heads,
               int64_t head_dim, double rms_norm_eps, std::optional<int64_t> sliding_window);

  // hidden [B,T,C] -> [B,T,C]; appends this layer's keys and values to ctx.cache when set.
  at::Tensor forward(const at::Tensor& hidden, const AttentionContext& ctx) const;

  std::optional<int64_t> sliding_window() const { return sliding_window_; }
  // (module name relative to the layer, backend slot), e.g. ("self_attn.q_proj", ...).
  std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> linears();
  const DecoderLayerWeights& weights() const { return w_; }
  // Mutable weights, for methods that fold scales into norms (SmoothQuant, AWQ).
  DecoderLayerWeights& mutable_weights() { return w_; }
  double rms_norm_eps() const { return eps_; }

  // The two residual branches, public so calibration can run them on captured inputs:
  // x is the already normalised input [B,T,C].
  at::Tensor attention(const at::Tensor& x, const AttentionContext& ctx) const;
  at::Tensor mlp(const at::Tensor& x) const;

 private:
  int64_t index_;
  DecoderLayerWeights w_;
  int64_t num_heads_, num_kv_heads_, head_dim_;
  double eps_;
  std::optional<int64_t> sliding_window_;
};

}  // namespace slmq
