#include "slmq/quant/rotation/rotate_model.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/quant/rotation/hadamard.h"
#include "slmq/quant/rotation/online_hadamard.h"

namespace slmq {
namespace {

const DenseLinear& dense_of(std::unique_ptr<LinearBackend>& slot, const std::string& what) {
  const auto* d = dynamic_cast<const DenseLinear*>(unwrap_online_slot(slot).get());
  if (d == nullptr)
    throw UnsupportedError(fmt::format(
        "rotation: {} is a '{}' linear; rotate a full-precision model", what, slot->kind()));
  return *d;
}

// Replaces the dense linear inside `slot` (keeping online wrappers) with fp64 `w` / `b` cast to
// the compute dtype.
void set_dense(std::unique_ptr<LinearBackend>& slot, const at::Tensor& w, const at::Tensor& b,
               c10::ScalarType dtype) {
  auto& inner = unwrap_online_slot(slot);
  inner = std::make_unique<DenseLinear>(w.to(dtype).contiguous(),
                                        b.defined() ? b.to(dtype).contiguous() : at::Tensor());
}

// W·R (input side) or Rᵀ·W, b ← Rᵀ·b (output side), in fp64.
void fold(std::unique_ptr<LinearBackend>& slot, const at::Tensor& r, bool output_side,
          c10::ScalarType dtype, const std::string& what) {
  const DenseLinear& d = dense_of(slot, what);
  const at::Tensor w = d.weight().to(at::kDouble);
  const at::Tensor rr = r.to(w.device(), at::kDouble);
  at::Tensor b = d.bias();
  if (output_side) {
    if (b.defined()) b = at::matmul(rr.t(), b.to(at::kDouble));
    set_dense(slot, at::matmul(rr.t(), w), b, dtype);
  } else {
    set_dense(slot, at::matmul(w, rr), b.defined() ? b.to(at::kDouble) : b, dtype);
  }
}

std::string layer_linear(const DecoderLayer& layer, LinearRole role) {
  return fmt::format("model.layers.{}.{}", layer.index(), layer.linear_name(role));
}

}  // namespace

std::optional<std::string> residual_rotation_reason(const Model& model) {
  const auto blockers = model.arch().structure(model.config()).residual_rotation_blockers;
  if (blockers.empty()) return std::nullopt;
  std::string names;
  for (const auto& b : blockers) names += (names.empty() ? "" : ", ") + b;
  return fmt::format(
      "{} normalises the residual stream's branches with norms that no linear follows ({}); a "
      "residual rotation (R1) cannot pass them, so QuaRot/SpinQuant cannot rotate this family",
      model.arch().hf_names().front(), names);
}

std::optional<std::string> quarot_value_rotation_reason(const Model& model) {
  const ModelConfig& c = model.config();
  const auto heads = hadamard_factor_of(c.num_heads);
  const auto full = hadamard_factor_of(c.num_heads * c.head_dim);
  const bool pow2_dim = c.head_dim > 0 && (c.head_dim & (c.head_dim - 1)) == 0;
  if (heads && full && *heads == *full && pow2_dim) return std::nullopt;
  return fmt::format(
      "QuaRot's v/o rotation needs an online Hadamard across the {} attention heads, and {} heads "
      "(head_dim {}) have no Hadamard transform consistent with o_proj's {} inputs; use "
      "SpinQuant's per-head form instead (quant.quarot.values: r2)",
      c.num_heads, c.num_heads, c.head_dim, c.num_heads * c.head_dim);
}

std::optional<std::string> down_proj_rotation_reason(const Model& model) {
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const int64_t n = model.layer(i).linear(LinearRole::kDown).in_features();
    if (auto r = hadamard_unsupported_reason(
            n, fmt::format("down_proj's input (intermediate size) in layer {}", i)))
      return *r + "; R4 is impossible (r4: false skips it)";
  }
  return std::nullopt;
}

std::optional<std::string> qk_rotation_reason(const Model& model) {
  return hadamard_unsupported_reason(model.config().head_dim, "head_dim (R3 on queries and keys)");
}

void prepare_for_rotation(Model& model, bool center_embeddings) {
  if (auto reason = residual_rotation_reason(model)) throw UnsupportedError(*reason);
  const c10::ScalarType dtype = model.dtype();
  model.untie_embeddings();
  for (auto& [name, slot] : model.linears()) dense_of(*slot, name);
  if (center_embeddings) {
    const at::Tensor e = model.embed_tokens().to(at::kDouble);
    model.set_embed_tokens(e - e.mean(-1, /*keepdim=*/true));
  }
  const auto folds = model.arch().structure(model.config()).folds;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    for (const FoldGroup& g : folds) {
      if (!g.norm || (*g.norm != NormRole::kAttnIn && *g.norm != NormRole::kMlpIn)) continue;
      const at::Tensor gain = layer.norm_gain(*g.norm).to(at::kDouble);
      for (LinearRole role : g.linears) {
        auto& slot = layer.linear(role);
        const DenseLinear& d = dense_of(slot, layer_linear(layer, role));
        const at::Tensor w = d.weight().to(at::kDouble) * gain.to(d.weight().device());
        set_dense(slot, w, d.bias().defined() ? d.bias().to(at::kDouble) : at::Tensor(), dtype);
      }
      layer.set_norm_gain(*g.norm, at::ones_like(gain, at::kFloat));
    }
  }
  auto& head = *model.linears().back().second;
  const at::Tensor gain = model.final_norm_gain().to(at::kDouble);
  const DenseLinear& h = dense_of(head, "lm_head");
  set_dense(head, h.weight().to(at::kDouble) * gain.to(h.weight().device()),
            h.bias().defined() ? h.bias().to(at::kDouble) : at::Tensor(), dtype);
  model.set_final_norm_gain(at::ones_like(gain, at::kFloat));
}

void rotate_residual(Model& model, const at::Tensor& r1) {
  const c10::ScalarType dtype = model.dtype();
  const int64_t c = model.config().hidden_size;
  if (r1.dim() != 2 || r1.size(0) != c || r1.size(1) != c)
    throw InternalError(fmt::format("rotate_residual: R1 must be [{0}, {0}]", c));
  const at::Tensor e = model.embed_tokens().to(at::kDouble);
  model.set_embed_tokens(at::matmul(e, r1.to(e.device(), at::kDouble)));
  fold(*model.linears().back().second, r1, /*output_side=*/false, dtype, "lm_head");
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    for (LinearRole role : kAllLinearRoles) {
      const bool out = role == LinearRole::kO || role == LinearRole::kDown;
      fold(layer.linear(role), r1, out, dtype, layer_linear(layer, role));
    }
  }
}

void rotate_values(Model& model, const std::vector<at::Tensor>& r2) {
  const ModelConfig& c = model.config();
  const int64_t d = c.head_dim, hkv = c.num_kv_heads, h = c.num_heads;
  if (static_cast<int64_t>(r2.size()) != model.num_layers())
    throw InternalError("rotate_values: one R2 per layer is needed");
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    auto& v_slot = layer.linear(LinearRole::kV);
    const DenseLinear& v = dense_of(v_slot, layer_linear(layer, LinearRole::kV));
    const at::Tensor r = r2[static_cast<size_t>(i)].to(v.weight().device(), at::kDouble);
    const at::Tensor wv = v.weight().to(at::kDouble);  // [Hkv·D, C]
    const at::Tensor new_wv = at::matmul(r.t(), wv.view({hkv, d, -1})).reshape(wv.sizes());
    at::Tensor bv = v.bias();
    if (bv.defined()) bv = at::matmul(bv.to(at::kDouble).view({hkv, d}), r).reshape({hkv * d});
    set_dense(v_slot, new_wv, bv, model.dtype());
    auto& o_slot = layer.linear(LinearRole::kO);
    const DenseLinear& o = dense_of(o_slot, layer_linear(layer, LinearRole::kO));
    const at::Tensor wo = o.weight().to(at::kDouble);  // [C, H·D]
    const at::Tensor new_wo = at::matmul(wo.view({wo.size(0), h, d}), r).reshape(wo.sizes());
    set_dense(o_slot, new_wo, o.bias().defined() ? o.bias().to(at::kDouble) : at::Tensor(),
              model.dtype());
  }
}

void rotate_values_quarot(Model& model, bool fp32_online) {
  if (auto reason = quarot_value_rotation_reason(model)) throw UnsupportedError(*reason);
  const ModelConfig& c = model.config();
  // v_h ← v_h·M_D per head is R2 = M_D on v_proj; o_proj takes the full transform instead.
  const at::Tensor md = hadamard_matrix(c.head_dim);
  const HadamardTransform full(c.num_heads * c.head_dim);
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    auto& v_slot = layer.linear(LinearRole::kV);
    const DenseLinear& v = dense_of(v_slot, layer_linear(layer, LinearRole::kV));
    const at::Tensor wv = v.weight().to(at::kDouble);
    const at::Tensor m = md.to(wv.device());
    at::Tensor bv = v.bias();
    if (bv.defined()) bv = at::matmul(bv.to(at::kDouble).view({-1, c.head_dim}), m).reshape({-1});
    set_dense(v_slot, at::matmul(m.t(), wv.view({-1, c.head_dim, wv.size(1)})).reshape(wv.sizes()),
              bv, model.dtype());
    auto& o_slot = layer.linear(LinearRole::kO);
    const DenseLinear& o = dense_of(o_slot, layer_linear(layer, LinearRole::kO));
    set_dense(o_slot, full.apply(o.weight().to(at::kDouble)),
              o.bias().defined() ? o.bias().to(at::kDouble) : at::Tensor(), model.dtype());
    o_slot = std::make_unique<OnlineHadamardLinear>(
        std::move(o_slot), OnlineHadamardLinear::Mode::kAcrossHeads, c.num_heads, fp32_online);
  }
}

void rotate_down_proj(Model& model, bool fp32_online) {
  if (auto reason = down_proj_rotation_reason(model)) throw UnsupportedError(*reason);
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    auto& slot = layer.linear(LinearRole::kDown);
    const DenseLinear& d = dense_of(slot, layer_linear(layer, LinearRole::kDown));
    const HadamardTransform t(d.in_features());
    set_dense(slot, t.apply(d.weight().to(at::kDouble)),
              d.bias().defined() ? d.bias().to(at::kDouble) : at::Tensor(), model.dtype());
    slot = std::make_unique<OnlineHadamardLinear>(
        std::move(slot), OnlineHadamardLinear::Mode::kFull, 0, fp32_online);
  }
}

}  // namespace slmq
