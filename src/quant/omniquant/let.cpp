#include "slmq/quant/omniquant/let.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <algorithm>

#include "slmq/core/error.h"
#include "slmq/model/model_config.h"

namespace slmq::omniquant {
namespace {

bool contains(const std::vector<LinearRole>& roles, LinearRole r) {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

// The reference's key linear of a group (pairs = {q_proj: qkv, o_proj: out, up_proj: fc1}).
LinearRole keyed_role(const FoldGroup& g) {
  for (LinearRole r : {LinearRole::kQ, LinearRole::kUp, LinearRole::kO})
    if (contains(g.linears, r)) return r;
  return g.linears.front();
}

const at::Tensor& scale_of(const std::map<std::string, at::Tensor>& scales,
                           const std::string& name) {
  const auto it = scales.find(name);
  if (it == scales.end()) throw InternalError("omniquant: LET scale " + name + " missing");
  return it->second;
}

}  // namespace

nlohmann::json LetPlan::to_json() const {
  nlohmann::json applied = nlohmann::json::array();
  for (const auto& g : groups) applied.push_back(g.name);
  if (qk) applied.push_back("s_qk");
  nlohmann::json skip = nlohmann::json::object();
  for (const auto& [name, why] : skipped) skip[name] = why;
  return {
      {"applied", applied}, {"skipped", skip}, {"v_unscaled_in_training", v_unscaled_in_training}};
}

LetPlan plan_let(const ModelConfig& config, const BlockStructure& structure, OmniFlavour flavour,
                 bool llmc_gqa_v_quirk) {
  LetPlan plan;
  bool have_out = false;
  for (const auto& g : structure.folds) {
    if (g.name == "attn_in" || g.name == "mlp_in") {
      plan.groups.push_back(
          {g.name == "attn_in" ? "s_qkv" : "s_fc1", g.norm, g.prev, g.linears, keyed_role(g)});
    }
  }
  for (const auto& g : structure.folds) {
    if (g.name == "attn_out" && g.prev) {
      plan.groups.push_back({"s_out", g.norm, g.prev, g.linears, keyed_role(g)});
      have_out = true;
    }
  }
  const int64_t q_rows = config.num_heads * config.head_dim;
  const int64_t kv_rows = config.num_kv_heads * config.head_dim;
  if (!have_out) {
    plan.skipped.emplace_back(
        "s_out", fmt::format("v_proj has {} outputs, o_proj {} inputs (GQA)", kv_rows, q_rows));
    plan.v_unscaled_in_training = flavour == OmniFlavour::kLlmc && llmc_gqa_v_quirk;
  }
  const bool qk_norms =
      config.arch().has_norm(NormRole::kQ) || config.arch().has_norm(NormRole::kK);
  if (q_rows != kv_rows) {
    plan.skipped.emplace_back("s_qk",
                              fmt::format("q_proj has {} rows, k_proj {} (GQA)", q_rows, kv_rows));
  } else if (qk_norms) {
    plan.skipped.emplace_back("s_qk", "a per-head q/k norm follows q_proj and k_proj");
  } else {
    plan.qk = true;
  }
  return plan;
}

at::Tensor init_let_scale(const at::Tensor& act_abs_max, const at::Tensor& keyed_weight,
                          double alpha, OmniFlavour flavour) {
  c10::AutoGradMode no_grad(false);
  const at::Tensor a = act_abs_max.to(keyed_weight.scalar_type()).clamp_min(1e-5);
  if (flavour == OmniFlavour::kOfficial) {
    const at::Tensor w = std::get<0>(keyed_weight.abs().max(0)).clamp_min(1e-5);
    return (a.pow(alpha) / w.pow(1 - alpha)).clamp_min(1e-5);
  }
  const at::Tensor w = std::get<0>(keyed_weight.max(0)).clamp_min(1e-5);
  return (a.pow(alpha) / w.to(at::kHalf).pow(1 - alpha)).clamp_min(1e-5);
}

void truncate_scale_(at::Tensor& s) {
  c10::AutoGradMode no_grad(false);
  s.copy_(at::where(s.abs() < 1e-2, s.sign() * 1e-2, s));
}

BlockWeights apply_let(const BlockWeights& base, const LetPlan& plan,
                       const std::map<std::string, at::Tensor>& scales, bool training) {
  BlockWeights t = base;
  for (const LetGroup& g : plan.groups) {
    const at::Tensor& s = scale_of(scales, g.name);
    if (g.norm) {
      t.gain[*g.norm] = t.gain.at(*g.norm) / s;
    } else {
      t.w(*g.prev) = t.w(*g.prev) / s.view({-1, 1});
      if (t.b(*g.prev).defined()) t.b(*g.prev) = t.b(*g.prev) / s;
    }
    for (LinearRole r : g.linears) t.w(r) = t.w(r) * s.view({1, -1});
  }
  if (plan.qk) {
    const at::Tensor& s = scale_of(scales, "s_qk");
    t.w(LinearRole::kQ) = t.w(LinearRole::kQ) / s.view({-1, 1});
    if (t.b(LinearRole::kQ).defined()) t.b(LinearRole::kQ) = t.b(LinearRole::kQ) / s;
    t.w(LinearRole::kK) = t.w(LinearRole::kK) * s.view({-1, 1});
    if (t.b(LinearRole::kK).defined()) t.b(LinearRole::kK) = t.b(LinearRole::kK) * s;
  }
  if (training && plan.v_unscaled_in_training) t.w(LinearRole::kV) = base.w(LinearRole::kV);
  return t;
}

}  // namespace slmq::omniquant
