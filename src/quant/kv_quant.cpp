#include "slmq/quant/kv_quant.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/model/model.h"
#include "slmq/quant/quantizer.h"

namespace slmq {

KvQuantTransform::KvQuantTransform(int64_t head_dim, bool hadamard_qk, KvQuantConfig kv,
                                   QuantFlavour flavour)
    : head_dim_(head_dim), hadamard_qk_(hadamard_qk), kv_(kv), flavour_(flavour) {
  if (hadamard_qk_) r3_.emplace(head_dim);
  if (kv_.group_size != -1 && kv_.group_size != head_dim) {
    throw ConfigError(fmt::format(
        "quant.kv.group_size: {} is neither -1 (per token over all KV heads) nor head_dim {} "
        "(per token and head), the two forms QuaRot and SpinQuant support",
        kv_.group_size, head_dim));
  }
}

at::Tensor KvQuantTransform::quantize_kv(const at::Tensor& x, int bits, bool keys) const {
  QuantSpec spec;
  spec.bits = bits;
  spec.symmetric = kv_.symmetric;
  spec.granularity = Granularity::kPerToken;
  spec.flavour = flavour_;
  spec.clip_ratio = kv_.clip_ratio;
  const int64_t b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
  at::Tensor tokens = x.transpose(1, 2).reshape({b * t, h * d});  // [B·T, H·D]
  if (kv_.group_size == -1) {
    return fake_quantize_activation(tokens, spec).view({b, t, h, d}).transpose(1, 2);
  }
  if (!keys && flavour_ == QuantFlavour::kQuarot) {
    // SpinQuant's v_proj output quantizer: per token and head-sized group, range not widened to
    // include 0 (find_params_per_token_groupwise).
    spec.granularity = Granularity::kPerGroup;
    spec.group_size = d;
    return fake_quantize_activation(tokens, spec).view({b, t, h, d}).transpose(1, 2);
  }
  // Keys per head: each [D] vector its own token (QuaRot's view(-1, head_dim)).
  return fake_quantize_activation(x.reshape({-1, d}), spec).view({b, h, t, d});
}

namespace {

// Straight-through: the quantized value forward, the identity gradient backward (SpinQuant's
// training); plain fake-quant when nothing needs a gradient.
at::Tensor straight_through(const at::Tensor& x, const at::Tensor& quantized) {
  return x.requires_grad() ? x + (quantized - x).detach() : quantized;
}

}  // namespace

std::pair<at::Tensor, at::Tensor> KvQuantTransform::queries_keys(const at::Tensor& q,
                                                                 const at::Tensor& k) const {
  at::Tensor qq = q, kk = k;
  if (r3_) {
    qq = r3_->apply(q.to(at::kFloat)).to(q.scalar_type());
    kk = r3_->apply(k.to(at::kFloat)).to(k.scalar_type());
  }
  if (kv_.k_bits < 16)
    kk = straight_through(kk, quantize_kv(kk.detach(), kv_.k_bits, /*keys=*/true));
  return {qq, kk};
}

at::Tensor KvQuantTransform::values(const at::Tensor& v) const {
  if (kv_.v_bits >= 16) return v;
  return straight_through(v, quantize_kv(v.detach(), kv_.v_bits, /*keys=*/false));
}

nlohmann::json KvQuantTransform::to_json() const {
  return {{"hadamard_qk", hadamard_qk_}, {"kv", kv_.to_json()}, {"flavour", to_string(flavour_)}};
}

std::string KvQuantTransform::describe() const {
  std::string s = hadamard_qk_ ? "hadamard q/k" : "";
  if (kv_.enabled()) {
    s += fmt::format("{}kv k{} v{} {} {}", s.empty() ? "" : ", ", kv_.k_bits, kv_.v_bits,
                     kv_.group_size == -1 ? "per_token" : "per_head",
                     kv_.symmetric ? "sym" : "asym");
  }
  return s;
}

std::optional<std::string> kv_unsupported_reason(const Model& model, const KvQuantConfig& kv,
                                                 bool hadamard_qk) {
  const int64_t d = model.config().head_dim;
  if (kv.enabled() && kv.group_size != -1 && kv.group_size != d) {
    return fmt::format(
        "quant.kv.group_size {} is neither -1 (per token over all KV heads) nor head_dim {} "
        "(per token and head), the two forms QuaRot and SpinQuant support",
        kv.group_size, d);
  }
  if (hadamard_qk) return hadamard_unsupported_reason(d, "head_dim (R3 on queries and keys)");
  return std::nullopt;
}

void attach_kv_quantizers(Model& model, const KvQuantConfig& kv, QuantFlavour flavour,
                          bool hadamard_qk) {
  if (!kv.enabled() && !hadamard_qk) return;
  if (auto reason = kv_unsupported_reason(model, kv, hadamard_qk)) throw UnsupportedError(*reason);
  auto transform =
      std::make_shared<const KvQuantTransform>(model.config().head_dim, hadamard_qk, kv, flavour);
  for (int64_t i = 0; i < model.num_layers(); ++i)
    model.layer(i).set_attention_transform(transform);
}

void attach_method_kv_quantizers(Model& model, const QuantConfig& config) {
  if (!config.kv.enabled() || model.num_layers() == 0) return;
  // A method that attached its own (QuaRot's and SpinQuant's R3 transform carries the KV
  // quantizers) keeps it; another method's transform (OmniQuant's Q/K/V quantizers) would be
  // replaced, so the combination is refused rather than silently changed.
  if (const AttentionTransform* t = model.layer(0).attention_transform()) {
    if (dynamic_cast<const KvQuantTransform*>(t) != nullptr) return;
    throw UnsupportedError(fmt::format(
        "quant.kv: method {} left its own attention transform ({}); KV-cache quantizers cannot "
        "be combined with it yet",
        config.method, t->describe()));
  }
  const QuantFlavour flavour =
      config.scheme.activation ? config.scheme.activation->flavour : config.scheme.weight.flavour;
  attach_kv_quantizers(model, config.kv, flavour, /*hadamard_qk=*/false);
}

}  // namespace slmq
