#pragma once
// KV-cache quantizers (fake-quant: the cache stores the dequantized values, so generation sees
// exactly what a packed cache would give) and QuaRot/SpinQuant's R3, as one AttentionTransform
// that every decoder layer runs after RoPE.
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <utility>

#include "slmq/model/decoder_layer.h"
#include "slmq/quant/kv_quant_config.h"
#include "slmq/quant/quant_spec.h"
#include "slmq/quant/rotation/hadamard.h"

namespace slmq {

class Model;

// R3 and the KV quantizers in one AttentionTransform. q, k, v keep their shapes and dtypes.
class KvQuantTransform final : public AttentionTransform {
 public:
  // head_dim: D; hadamard_qk: R3 (head_dim must be a power of two or a table size); `flavour`:
  // whose quantizer formulas (QuaRot's per-token activation quantizer for quarot/spinquant).
  KvQuantTransform(int64_t head_dim, bool hadamard_qk, KvQuantConfig kv, QuantFlavour flavour);
  std::pair<at::Tensor, at::Tensor> queries_keys(const at::Tensor& q,
                                                 const at::Tensor& k) const override;
  at::Tensor values(const at::Tensor& v) const override;
  std::string describe() const override;
  // {"hadamard_qk", "kv": KvQuantConfig::to_json(), "flavour"} (checkpoint declarations).
  nlohmann::json to_json() const;

  // x [B,H,T,D] -> fake-quantized, per token over all heads (group -1) or per token and head.
  at::Tensor quantize_kv(const at::Tensor& x, int bits, bool keys) const;

 private:
  int64_t head_dim_;
  bool hadamard_qk_;
  KvQuantConfig kv_;
  QuantFlavour flavour_;
  std::optional<HadamardTransform> r3_;
};

// Why `kv` cannot be applied to `model` (group size neither -1 nor head_dim; R3 with a head_dim
// that has no Hadamard transform), or nullopt.
std::optional<std::string> kv_unsupported_reason(const Model& model, const KvQuantConfig& kv,
                                                 bool hadamard_qk);
// Sets a KvQuantTransform on every layer (replacing any transform there). Nothing happens when
// `kv` quantizes nothing and `hadamard_qk` is false. Throws UnsupportedError with the reason above.
void attach_kv_quantizers(Model& model, const KvQuantConfig& kv, QuantFlavour flavour,
                          bool hadamard_qk);

// The KV quantizers of `config.kv` for a method that did not attach its own (every method but
// quarot and spinquant, whose R3 transform carries them: a model whose layers already have a
// KvQuantTransform is left as it is): the method's activation flavour (or weight flavour for
// weight-only schemes), no R3. No-op when kv quantizes nothing. UnsupportedError when the method
// left another attention transform (OmniQuant's Q/K/V quantizers), which these would replace.
void attach_method_kv_quantizers(Model& model, const QuantConfig& config);

}  // namespace slmq
