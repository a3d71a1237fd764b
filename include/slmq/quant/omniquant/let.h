#pragma once
// OmniQuant's learnable equivalent transforms on a Llama-style block (specs/quant_methods.md §5,
// use_shift off): per-channel scales s that divide a norm's gain (or a linear's output rows) and
// multiply the input columns of the linears it feeds, plus s_qk between q_proj and k_proj rows.
// Which groups exist comes from the architecture's fold groups (slmq/model/arch/architecture.h):
//   s_qkv: the attn_in group (norm -> q, k, v), keyed on q_proj;
//   s_fc1: the mlp_in group (norm -> gate, up), keyed on up_proj;
//   s_out: the attn_out group (v_proj rows -> o_proj columns), present only when v_proj's outputs
//          match o_proj's inputs (MHA), keyed on o_proj;
//   s_qk:  q_proj rows / s, k_proj rows · s (biases likewise), only when q_proj and k_proj have
//          the same rows (MHA) and no per-head q/k norm follows them.
// The skips are LLMC's rules; the official code crashes on GQA instead.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slmq/model/arch/architecture.h"
#include "slmq/quant/omniquant/options.h"

namespace slmq {
struct ModelConfig;
}

namespace slmq::omniquant {

struct LetGroup {
  std::string name;                 // "s_qkv", "s_fc1", "s_out"
  std::optional<NormRole> norm;     // the norm's gain /= s ...
  std::optional<LinearRole> prev;   // ... or this linear's output rows and bias /= s
  std::vector<LinearRole> linears;  // input columns *= s
  LinearRole keyed;                 // whose input abs-max and weight give the initial s
};

struct LetPlan {
  std::vector<LetGroup> groups;  // in application order: norm-led groups, then linear-led ones
  bool qk = false;               // s_qk
  // LLMC on GQA: v_proj's temporary weight during training is its unscaled weight (LLMC resets
  // it when it skips v -> o), although the norm is divided by s_qkv; the fold scales it.
  bool v_unscaled_in_training = false;
  std::vector<std::pair<std::string, std::string>> skipped;  // transform, why

  // {applied: [...], skipped: {name: reason}, v_unscaled_in_training}
  nlohmann::json to_json() const;
};

LetPlan plan_let(const ModelConfig& config, const BlockStructure& structure, OmniFlavour flavour,
                 bool llmc_gqa_v_quirk);

// A block's dense weights and norm gains in the training dtype.
struct BlockWeights {
  std::array<at::Tensor, kLinearRoles> weight;  // [out, in]
  std::array<at::Tensor, kLinearRoles> bias;    // [out] or undefined
  std::map<NormRole, at::Tensor> gain;          // effective per-channel multiplier [C]

  at::Tensor& w(LinearRole r) { return weight[static_cast<int>(r)]; }
  const at::Tensor& w(LinearRole r) const { return weight[static_cast<int>(r)]; }
  at::Tensor& b(LinearRole r) { return bias[static_cast<int>(r)]; }
  const at::Tensor& b(LinearRole r) const { return bias[static_cast<int>(r)]; }
};

// The initial scale of a group: a = clamp(act_abs_max, 1e-5) [C], then
//   official: w_j = clamp(max_i |W_ij|, 1e-5), s = clamp(a^α / w^(1−α), 1e-5);
//   llmc:     w_j = clamp(max_i W_ij, 1e-5) (signed), s = clamp(a^α / fp16(w)^(1−α), 1e-5) with
//             the power taken in fp16 as LLMC does.
// In keyed_weight's dtype.
at::Tensor init_let_scale(const at::Tensor& act_abs_max, const at::Tensor& keyed_weight,
                          double alpha, OmniFlavour flavour);

// Entries with |s| < 1e-2 become sign(s)·1e-2, in place and outside autograd, as both
// references do to every scale before each use (sign(0) = 0 stays 0).
void truncate_scale_(at::Tensor& s);

// `base` transformed by the scales (name -> s, "s_qk" among them), differentiable in them, in
// the official order: norm-led groups, linear-led groups, then s_qk. `training` applies the
// plan's v_unscaled_in_training.
BlockWeights apply_let(const BlockWeights& base, const LetPlan& plan,
                       const std::map<std::string, at::Tensor>& scales, bool training);

}  // namespace slmq::omniquant
