#include "slmq/quant/rotation/rotation_pipeline.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <cmath>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/rotation/hadamard.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/rotate_model.h"
#include "slmq/quant/rotation/rotation_gptq.h"

namespace slmq {
namespace {

std::string layer_linear_name(const DecoderLayer& layer, LinearRole role) {
  return fmt::format("model.layers.{}.{}", layer.index(), layer.linear_name(role));
}

// RTN of every decoder-layer linear (the dense one inside any online wrapper).
void quantize_rtn(Model& model, const QuantConfig& config, QuantReport& report) {
  double quantize_s = 0, stats_s = 0;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    for (LinearRole role : kAllLinearRoles) {
      auto& inner = unwrap_online_slot(layer.linear(role));
      const auto* dense = dynamic_cast<const DenseLinear*>(inner.get());
      if (dense == nullptr) throw InternalError("rotation: a rotated linear is not dense");
      auto t0 = SteadyClock::now();
      QuantizedWeight q = rotation_options(config).w_clip
                              ? quantize_weight_mse_clip(dense->weight(), config.scheme.weight)
                              : quantize_weight(dense->weight(), config.scheme.weight);
      quantize_s += seconds_since(t0);
      t0 = SteadyClock::now();
      report.layers.push_back(
          weight_error_stats(layer_linear_name(layer, role), dense->weight(), dequantize(q)));
      stats_s += seconds_since(t0);
      report.linear_bytes_before += dense->bytes();
      auto fq = std::make_unique<FakeQuantLinear>(std::move(q), dense->bias(), model.dtype());
      report.linear_bytes_after += fq->bytes();
      inner = std::move(fq);
    }
  }
  report.cost.phase_seconds.emplace_back("rtn", quantize_s);
  report.cost.phase_seconds.emplace_back("error_stats", stats_s);
}

// Weight-only FakeQuantLinears get their activation quantizers once the weights are final, as
// QuaRot/SpinQuant configure input quantizers after GPTQ.
void attach_activation_quantizers(Model& model, const QuantConfig& config) {
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    for (LinearRole role : kAllLinearRoles) {
      auto spec = rotated_activation_spec(model, config, role);
      if (!spec) continue;
      auto& inner = unwrap_online_slot(layer.linear(role));
      const auto* fq = dynamic_cast<const FakeQuantLinear*>(inner.get());
      if (fq == nullptr) throw InternalError("rotation: a quantized linear is not fake-quant");
      inner =
          std::make_unique<FakeQuantLinear>(fq->packed_weight(), fq->bias(), model.dtype(), spec);
    }
  }
}

}  // namespace

std::optional<std::string> rotation_unsupported_reason(const Model& model,
                                                       const QuantConfig& config) noexcept {
  try {
    if (auto r = residual_rotation_reason(model)) return r;
    const RotationOptions& rotation = rotation_options(config);
    if (rotation.r1 == "none" && config.method == "spinquant")
      return std::string("spinquant learns R1; quant.spinquant.r1: none is for quarot only");
    if (rotation.r1 != "none") {
      if (auto r = hadamard_unsupported_reason(model.config().hidden_size, "the hidden size (R1)");
          r && rotation.r1 != "random")
        return r;
    }
    if (config.quantize_lm_head)
      return std::string(
          "QuaRot and SpinQuant never quantize lm_head (its input and weight stay in full "
          "precision); set quantize_lm_head: false");
    if (rotation.values == "quarot") {
      if (config.method == "spinquant")
        return std::string("spinquant learns R2; quant.spinquant.values: quarot is QuaRot's form");
      if (auto r = quarot_value_rotation_reason(model)) return r;
    }
    if (rotation.values == "r2")
      if (auto r = hadamard_unsupported_reason(model.config().head_dim, "head_dim (R2)")) return r;
    if (rotation.r4)
      if (auto r = down_proj_rotation_reason(model)) return r;
    if (auto r = kv_unsupported_reason(model, config.kv, config.kv.k_bits < 16)) return r;
    if (rotation.w_clip && rotation.weights == "gptq")
      return std::string(
          "the MSE clip search (w_clip) is implemented for RTN weights only so far; "
          "set weights: rtn or w_clip: false");
    for (const auto& [name, linear] : model.linears()) {
      if (linear->kind() != "dense")
        return fmt::format("{} is already a '{}' linear; rotate a full-precision model", name,
                           linear->kind());
    }
    const QuantSpec& w = config.scheme.weight;
    if (w.granularity == Granularity::kPerTensor)
      return std::string("rotation methods quantize weights per channel or per group");
    if (w.granularity == Granularity::kPerGroup && !allows_ragged_groups(w, QuantRole::kWeight)) {
      for (const auto& [name, linear] : model.linears()) {
        if (is_quant_target(name, config) && linear->in_features() % w.group_size != 0)
          return fmt::format("group size {} does not divide the {} inputs of {}", w.group_size,
                             linear->in_features(), name);
      }
    }
    const auto& act = config.scheme.activation;
    if (act && !act->dynamic)
      return std::string("rotation methods quantize activations dynamically per token");
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string("cannot check the model: ") + e.what();
  }
}

RotationMatrices initial_rotations(const Model& model, const RotationOptions& options) {
  at::Generator gen = seeded_cpu_generator(static_cast<uint64_t>(options.seed));
  const int64_t c = model.config().hidden_size;
  RotationMatrices r;
  if (options.r1 == "random_hadamard") r.r1 = random_hadamard_matrix(c, gen);
  if (options.r1 == "hadamard") r.r1 = hadamard_matrix(c);
  if (options.r1 == "random") r.r1 = random_orthogonal_matrix(c, gen);
  if (options.values == "r2") {
    for (int64_t i = 0; i < model.num_layers(); ++i)
      r.r2.push_back(random_hadamard_matrix(model.config().head_dim, gen));
  }
  return r;
}

void fold_rotations(Model& model, const QuantConfig& config, const RotationMatrices& rotations,
                    std::vector<std::pair<std::string, double>>& phases) {
  const RotationOptions& rotation = rotation_options(config);
  auto t0 = SteadyClock::now();
  prepare_for_rotation(model, rotation.center_embeddings);
  phases.emplace_back("prepare", seconds_since(t0));
  t0 = SteadyClock::now();
  if (rotations.r1.defined()) rotate_residual(model, rotations.r1);
  if (rotation.values == "r2") rotate_values(model, rotations.r2);
  if (rotation.values == "quarot") rotate_values_quarot(model, rotation.online_fp32);
  if (rotation.r4) rotate_down_proj(model, rotation.online_fp32);
  phases.emplace_back("rotate", seconds_since(t0));
}

std::optional<QuantSpec> rotated_activation_spec(const Model& model, const QuantConfig& config,
                                                 LinearRole role) {
  std::optional<QuantSpec> spec = config.scheme.activation;
  if (spec && role == LinearRole::kO && config.method == "spinquant" &&
      spec->granularity == Granularity::kPerToken) {
    spec->granularity = Granularity::kPerGroup;
    spec->group_size = model.config().head_dim;
  }
  return spec;
}

void quantize_rotated(Model& model, const QuantConfig& config, const CalibrationData* calib,
                      QuantReport& report) {
  c10::InferenceMode guard;
  if (rotation_options(config).weights == "gptq") {
    if (calib == nullptr || calib->windows.size() == 0)
      throw InternalError(config.method + ": GPTQ needs calibration windows");
    quantize_rotated_gptq(model, config, *calib, report);
  } else {
    quantize_rtn(model, config, report);
  }
  attach_activation_quantizers(model, config);
  const QuantFlavour flavour =
      config.scheme.activation ? config.scheme.activation->flavour : config.scheme.weight.flavour;
  attach_kv_quantizers(model, config.kv, flavour, config.kv.k_bits < 16);
}

QuantizedWeight quantize_weight_mse_clip(const at::Tensor& w, const QuantSpec& spec) {
  const at::Tensor x = w.to(at::kFloat);
  QuantizedWeight best = quantize_weight(x, spec);
  const int64_t out = x.size(0), in = x.size(1), g = best.columns_per_group();
  const int64_t groups = best.scales.size(1);
  // Column j belongs to group j / g; error per (row, group) = Σ |Q(x) − x|^2.4.
  const at::Tensor group_of = at::arange(in, at::kLong) / g;
  auto group_error = [&](const QuantizedWeight& q) {
    const at::Tensor e = (dequantize(q) - x).abs().pow(2.4);
    return at::zeros({out, groups}, at::kFloat).index_add_(1, group_of, e);
  };
  at::Tensor best_err = group_error(best);
  for (int k = 1; k < 80; ++k) {
    QuantSpec s = spec;
    s.clip_ratio = spec.clip_ratio * (1.0 - k / 100.0);
    QuantizedWeight q = quantize_weight(x, s);
    const at::Tensor err = group_error(q);
    const at::Tensor better = err < best_err;  // [out, groups]
    best_err = at::where(better, err, best_err);
    const at::Tensor col = better.index_select(1, group_of);  // [out, in]
    best.codes = at::where(col, q.codes, best.codes);
    best.scales = at::where(better, q.scales, best.scales);
    best.zeros = at::where(better, q.zeros, best.zeros);
  }
  return best;
}

}  // namespace slmq
