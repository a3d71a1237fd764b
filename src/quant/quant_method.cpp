#include "slmq/quant/quant_method.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "slmq/core/error.h"

namespace slmq {
namespace {

// The divisor of `width` nearest to `wanted` (the smaller one on a tie), and the nearest power of
// two dividing it.
std::pair<int64_t, int64_t> nearest_divisors(int64_t width, int64_t wanted) {
  int64_t best = 1, best_pow2 = 1;
  for (int64_t d = 1; d <= width; ++d) {
    if (width % d != 0) continue;
    if (std::llabs(d - wanted) < std::llabs(best - wanted)) best = d;
    if ((d & (d - 1)) == 0 && std::llabs(d - wanted) < std::llabs(best_pow2 - wanted))
      best_pow2 = d;
  }
  return {best, best_pow2};
}

std::optional<std::string> group_reason(const Model& model, const QuantConfig& config) {
  const QuantSpec& w = config.scheme.weight;
  if (w.granularity != Granularity::kPerGroup || allows_ragged_groups(w, QuantRole::kWeight))
    return std::nullopt;
  int64_t common = 0;
  std::string first_bad;
  int64_t first_bad_width = 0;
  for (const auto& [name, linear] : model.linears()) {
    if (!is_quant_target(name, config)) continue;
    common = std::gcd(common, linear->in_features());
    if (first_bad.empty() && linear->in_features() % w.group_size != 0) {
      first_bad = name;
      first_bad_width = linear->in_features();
    }
  }
  if (first_bad.empty()) return std::nullopt;
  auto [nearest, pow2] = nearest_divisors(common, w.group_size);
  std::string alt = nearest == pow2 ? "" : fmt::format(" (nearest power of two: {})", pow2);
  return fmt::format(
      "quant.weight.group_size: group size {} does not divide the {} input features of {}, and "
      "the {} flavour{} requires "
      "every group to be "
      "full; nearest group size valid for all layers: {}{}{}",
      w.group_size, first_bad_width, first_bad, to_string(w.flavour),
      w.flavour == QuantFlavour::kOmniquant ? " (asymmetric)" : "", nearest, alt,
      w.flavour == QuantFlavour::kGptq ? "" : "; the gptq flavour allows a shorter last group");
}

}  // namespace

nlohmann::json QuantCost::to_json() const {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [name, seconds] : phase_seconds) phases[name] = seconds;
  return {{"wall_seconds", wall_seconds},
          {"phase_seconds", phases},
          {"peak_rss_bytes", peak_rss_bytes}};
}

nlohmann::json QuantReport::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  double sum_rel = 0, max_rel = 0;
  for (const auto& l : layers) {
    rows.push_back({{"name", l.name},
                    {"out_features", l.out_features},
                    {"in_features", l.in_features},
                    {"relative_error", l.relative_error},
                    {"max_abs_error", l.max_abs_error},
                    {"mse", l.mse}});
    sum_rel += l.relative_error;
    max_rel = std::max(max_rel, l.relative_error);
  }
  nlohmann::json j = {{"method", method},
                      {"config", config.to_json()},
                      {"summary",
                       {{"quantized_linears", layers.size()},
                        {"mean_relative_error",
                         layers.empty() ? 0.0 : sum_rel / static_cast<double>(layers.size())},
                        {"max_relative_error", max_rel},
                        {"linear_bytes_before", linear_bytes_before},
                        {"linear_bytes_after", linear_bytes_after}}},
                      {"layers", rows},
                      {"cost", cost.to_json()}};
  if (!calibration.is_null()) j["calibration"] = calibration;
  if (!details.is_null()) j["details"] = details;
  if (!embedding.is_null()) j["embedding"] = embedding;
  return j;
}

CalibrationData prepare_method_calibration(const QuantMethod& method, const QuantConfig& config,
                                           const Tokenizer& tokenizer) {
  CalibrationData data = prepare_calibration(config.calibration, tokenizer);
  if (auto training = method.training_calibration(config)) {
    data.training =
        std::make_shared<const CalibrationData>(prepare_calibration(*training, tokenizer));
  }
  return data;
}

bool is_quant_target(const std::string& linear_name, const QuantConfig& config) {
  if (linear_name == "lm_head") return config.quantize_lm_head;
  return linear_name.rfind("model.layers.", 0) == 0;
}

std::optional<std::string> common_unsupported_reason(const Model& model,
                                                     const QuantConfig& config) noexcept {
  try {
    for (const auto& [name, linear] : model.linears()) {
      if (is_quant_target(name, config) && linear->kind() != "dense") {
        return fmt::format("{} is already a '{}' linear; quantize a full-precision model", name,
                           linear->kind());
      }
    }
    if (auto reason = group_reason(model, config)) return reason;
    const auto& act = config.scheme.activation;
    if (act && !act->dynamic) {
      return std::string(
          "static activation quantization needs calibration statistics, which slmquant does not "
          "collect yet; use dynamic per_token activations");
    }
    if (act && act->granularity == Granularity::kPerGroup) {
      for (const auto& [name, linear] : model.linears()) {
        if (is_quant_target(name, config) && linear->in_features() % act->group_size != 0) {
          return fmt::format(
              "quant.activation.group_size: group size {} does not divide the {} input features of "
              "{}",
              act->group_size, linear->in_features(), name);
        }
      }
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string("cannot check the model: ") + e.what();
  }
}

LayerQuantStats weight_error_stats(const std::string& name, const at::Tensor& original,
                                   const at::Tensor& dequantized) {
  at::Tensor w = original.to(at::kFloat), diff = dequantized - w;
  LayerQuantStats s;
  s.name = name;
  s.out_features = w.size(0);
  s.in_features = w.size(1);
  const double norm = w.norm().item<double>();
  s.relative_error = norm > 0 ? diff.norm().item<double>() / norm : 0.0;
  s.max_abs_error = diff.abs().max().item<double>();
  s.mse = diff.pow(2).mean().item<double>();
  return s;
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace slmq
