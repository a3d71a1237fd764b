#pragma once
// One pre-norm decoder block of any supported family, driven by its Architecture: norm, rotary
// GQA self-attention (optional per-head q/k norms, optional post-attention norm), residual, norm,
// gated MLP (SiLU or GELU-tanh; optional post-MLP norm), residual.
#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slmq/model/arch/architecture.h"
#include "slmq/model/linear_backend.h"

namespace slmq {

class KVCache;
struct ModelConfig;

// What every layer of one forward call shares.
struct AttentionContext {
  // cos/sin [B,1,T,rotary_dim] compute dtype, one pair per distinct RoPE of the model (index 0 is
  // the global one, 1 the sliding layers' own where the family has one).
  std::vector<std::pair<at::Tensor, at::Tensor>> rope;
  // Allowed (query, key) pairs, [B,1,T,S] bool, keyed by sliding window (0 = full attention).
  // An undefined mask means plain causal attention over the call's own tokens (no cache), which
  // lets SDPA skip the masked half instead of reading a mask.
  std::map<int64_t, at::Tensor> masks;
  KVCache* cache = nullptr;
};

// Transforms applied inside attention at the points the architecture declares (OnlinePoints):
// QuaRot/SpinQuant's online Hadamard on Q and K (R3), KV-cache quantizers, OmniQuant's Q/K/V
// activation quantizers. The layer calls them on every forward; the default is the identity.
class AttentionTransform {
 public:
  virtual ~AttentionTransform() = default;
  // q [B,H,T,D], k [B,Hkv,T,D] after RoPE (and q/k norms), compute dtype -> same shapes.
  virtual std::pair<at::Tensor, at::Tensor> queries_keys(const at::Tensor& q,
                                                         const at::Tensor& k) const {
    return {q, k};
  }
  // v [B,Hkv,T,D] at v_proj's output -> same shape.
  virtual at::Tensor values(const at::Tensor& v) const { return v; }
  // Short description for result files ("kv int4 g128 asym", "hadamard q/k").
  virtual std::string describe() const = 0;
};

// x [..., C] -> RMSNorm(x) * weight, normalised in fp32 and cast back before the weight, as
// transformers' LlamaRMSNorm does.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// x [..., C] -> (RMSNorm(x) * (1 + weight)) in fp32, cast back (Gemma3RMSNorm).
at::Tensor rms_norm_one_plus(const at::Tensor& x, const at::Tensor& weight, double eps);

struct DecoderLayerWeights {
  // Stored norm weights by NormRole (as the checkpoint holds them: Gemma's are w of (1 + w));
  // undefined for norms the family does not have.
  std::array<at::Tensor, kNormRoles> norms;
  // Linears by LinearRole; all seven are present.
  std::array<std::unique_ptr<LinearBackend>, kLinearRoles> linears;

  at::Tensor& norm(NormRole role) { return norms[static_cast<int>(role)]; }
  const at::Tensor& norm(NormRole role) const { return norms[static_cast<int>(role)]; }
  std::unique_ptr<LinearBackend>& linear(LinearRole role) {
    return linears[static_cast<int>(role)];
  }
  const LinearBackend& linear(LinearRole role) const { return *linears[static_cast<int>(role)]; }
};

class DecoderLayer {
 public:
  // `config` must outlive the layer (the Model owns both).
  DecoderLayer(int64_t index, DecoderLayerWeights weights, const ModelConfig& config);

  // hidden [B,T,C] -> [B,T,C]; appends this layer's keys and values to ctx.cache when set.
  at::Tensor forward(const at::Tensor& hidden, const AttentionContext& ctx) const;

  int64_t index() const { return index_; }
  const Architecture& arch() const { return arch_; }
  std::optional<int64_t> sliding_window() const { return sliding_window_; }
  int64_t rope_index() const { return rope_index_; }
  double rms_norm_eps() const { return eps_; }

  // (module name relative to the layer, backend slot) in forward order, e.g.
  // ("self_attn.q_proj", ...), names from the architecture.
  std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> linears();
  std::unique_ptr<LinearBackend>& linear(LinearRole role) { return w_.linear(role); }
  const LinearBackend& linear(LinearRole role) const { return w_.linear(role); }
  const std::string& linear_name(LinearRole role) const { return arch_.hf_name(role); }
  // The role of a linear by its relative name; nullopt for other names.
  std::optional<LinearRole> linear_role(const std::string& name) const;

  const DecoderLayerWeights& weights() const { return w_; }
  // Mutable weights, for methods that fold scales or rotations (SmoothQuant, AWQ, QuaRot).
  DecoderLayerWeights& mutable_weights() { return w_; }
  bool has_norm(NormRole role) const { return w_.norm(role).defined(); }
  // The norm's effective per-channel multiplier in fp32 (w, or 1 + w for Gemma's kind).
  at::Tensor norm_gain(NormRole role) const;
  // Sets the stored weight so that the effective multiplier is `gain` (fp32 [C]).
  void set_norm_gain(NormRole role, const at::Tensor& gain);
  // Applies a norm of this layer's kind with its current weight (for calibration on captured
  // inputs): x [..., C] -> same.
  at::Tensor apply_norm(NormRole role, const at::Tensor& x) const;

  // Online transforms inside attention (null: none).
  void set_attention_transform(std::shared_ptr<const AttentionTransform> transform) {
    attention_transform_ = std::move(transform);
  }
  const AttentionTransform* attention_transform() const { return attention_transform_.get(); }

  // The two residual branches, public so calibration can run them on captured inputs: x is the
  // already normalised input [B,T,C]; the result is the branch output before any post-norm.
  at::Tensor attention(const at::Tensor& x, const AttentionContext& ctx) const;
  at::Tensor mlp(const at::Tensor& x) const;

 private:
  int64_t index_;
  const Architecture& arch_;
  DecoderLayerWeights w_;
  int64_t num_heads_, num_kv_heads_, head_dim_;
  double eps_;
  double attention_scale_;
  NormKind norm_kind_;
  Activation activation_;
  std::optional<int64_t> sliding_window_;
  int64_t rope_index_;
  std::shared_ptr<const AttentionTransform> attention_transform_;
};

}  // namespace slmq
