#include "slmq/quant/rotation/rotation_gptq.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "slmq/calib/activation_stats.h"
#include "slmq/calib/layer_capture.h"
#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/gptq.h"
#include "slmq/quant/methods/gptq.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/rotation_options.h"

namespace slmq {
namespace {

// The linear whose recorded input stands for `role`'s: the first of its norm-led fold group
// (q/k/v and gate/up read one normalised input) when that one is quantized in the same group.
LinearRole input_source(const std::vector<FoldGroup>& folds, const std::vector<LinearRole>& group,
                        LinearRole role) {
  for (const auto& g : folds) {
    if (!g.norm || std::find(g.linears.begin(), g.linears.end(), role) == g.linears.end()) continue;
    const LinearRole first = g.linears.front();
    if (std::find(group.begin(), group.end(), first) != group.end()) return first;
  }
  return role;
}

// Hessian of the input the wrapped linear sees: with x' = x·M, Σ x'ᵀx' = Mᵀ (Σ xᵀx) M.
at::Tensor transformed_hessian(const LinearBackend& slot, const at::Tensor& h) {
  const auto* w = dynamic_cast<const OnlineHadamardLinear*>(&slot);
  if (w == nullptr) return h;
  const at::Tensor hm = w->transform_input(h.to(at::kFloat));  // H·M
  return w->transform_input(hm.t().contiguous());              // Mᵀ·H·M
}

}  // namespace

void quantize_rotated_gptq(Model& model, const QuantConfig& config, const CalibrationData& calib,
                           QuantReport& report) {
  const auto start = SteadyClock::now();
  double hessian_s = 0, solve_s = 0;
  report.details["linears"] = nlohmann::json::array();
  LayerwiseCapture capture(model, calib.windows,
                           {calib.config.batch_size, calib.config.propagate_quantized});
  const auto groups = gptq_linear_groups(model, rotation_options(config).gptq.true_sequential);
  const auto folds = model.arch().structure(model.config()).folds;
  for (; !capture.done(); capture.advance()) {
    DecoderLayer& layer = capture.layer();
    spdlog::info("{}: gptq layer {}/{} ({:.1f} s)", config.method, layer.index() + 1,
                 model.num_layers(), seconds_since(start));
    for (const auto& group : groups) {
      std::vector<std::string> names;
      for (LinearRole role : group) {
        const std::string& n = layer.linear_name(input_source(folds, group, role));
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
      }
      LinearInputRecorder recorder(layer, names, {.channel_stats = false, .hessian = true});
      capture.run(recorder.hook(), recorder.names());
      hessian_s += recorder.seconds();
      for (LinearRole role : group) {
        auto& slot = layer.linear(role);
        const at::Tensor h = transformed_hessian(
            *slot, recorder.hessian(layer.linear_name(input_source(folds, group, role))).hessian());
        auto& inner = unwrap_online_slot(slot);
        const auto* dense = dynamic_cast<const DenseLinear*>(inner.get());
        if (dense == nullptr) throw InternalError("rotation gptq: a rotated linear is not dense");
        const std::string full =
            fmt::format("model.layers.{}.{}", layer.index(), layer.linear_name(role));
        auto t0 = SteadyClock::now();
        GptqResult r =
            gptq_quantize(dense->weight(), h, config.scheme.weight, rotation_options(config).gptq);
        solve_s += seconds_since(t0);
        report.layers.push_back(weight_error_stats(full, dense->weight(), r.dequantized));
        report.details["linears"].push_back({{"name", full},
                                             {"percdamp_used", r.percdamp_used},
                                             {"cholesky_retries", r.cholesky_retries}});
        report.linear_bytes_before += dense->bytes();
        auto fq =
            std::make_unique<FakeQuantLinear>(std::move(r.weight), dense->bias(), model.dtype());
        report.linear_bytes_after += fq->bytes();
        inner = std::move(fq);
      }
    }
  }
  auto& phases = report.cost.phase_seconds;
  phases.emplace_back("gptq_capture", capture.forward_seconds() - hessian_s);
  phases.emplace_back("gptq_hessian", hessian_s);
  phases.emplace_back("gptq_solve", solve_s);
}

}  // namespace slmq
