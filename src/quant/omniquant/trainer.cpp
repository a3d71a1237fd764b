#include "slmq/quant/omniquant/trainer.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <ctime>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"

namespace slmq::omniquant {
namespace {

// torch.autocast(device_type="cuda", dtype) for one forward; a no-op without a dtype.
class CudaAutocast {
 public:
  explicit CudaAutocast(std::optional<c10::ScalarType> dtype) : on_(dtype.has_value()) {
    if (!on_) return;
    previous_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::set_autocast_dtype(at::kCUDA, *dtype);
    at::autocast::increment_nesting();
  }
  ~CudaAutocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, previous_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
  }
  CudaAutocast(const CudaAutocast&) = delete;
  CudaAutocast& operator=(const CudaAutocast&) = delete;

 private:
  bool on_;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::kHalf;
};

// torch.cuda.amp.GradScaler's defaults: init 2^16, halve on a non-finite gradient, double after
// 2000 finite steps. Scale 1 (off) unless training under fp16 autocast.
struct LossScaler {
  bool enabled = false;
  double scale = 65536.0;
  int64_t good = 0;

  void update(bool finite) {
    if (!enabled) return;
    if (!finite) {
      scale *= 0.5;
      good = 0;
    } else if (++good == 2000) {
      scale *= 2.0;
      good = 0;
    }
  }
};

std::vector<at::Tensor> snapshot(const std::vector<at::Tensor>& params) {
  c10::AutoGradMode no_grad(false);
  std::vector<at::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

void put_back(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& saved) {
  c10::AutoGradMode no_grad(false);
  for (size_t i = 0; i < params.size(); ++i) params[i].detach().copy_(saved[i]);
}

// Unscales the gradients in place and returns their total L2 norm (non-finite when any is).
double unscale_and_norm(const std::vector<at::Tensor>& params, double scale) {
  c10::AutoGradMode no_grad(false);
  std::vector<at::Tensor> norms;
  for (const auto& p : params) {
    at::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (scale != 1.0) g.mul_(1.0 / scale);
    norms.push_back(g.detach().norm(2));
  }
  if (norms.empty()) return 0;
  return at::stack(norms).norm(2).item<double>();
}

double mean(const std::vector<double>& v, size_t from) {
  double sum = 0;
  for (size_t i = from; i < v.size(); ++i) sum += v[i];
  return v.size() > from ? sum / static_cast<double>(v.size() - from) : 0;
}

}  // namespace

AdamW::AdamW(std::vector<Group> groups, double weight_decay, double beta1, double beta2, double eps)
    : groups_(std::move(groups)), wd_(weight_decay), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& g : groups_) state_.emplace_back(g.params.size());
}

void AdamW::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params) p.mutable_grad() = at::Tensor();
}

void AdamW::step() {
  c10::AutoGradMode no_grad(false);
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const double lr = groups_[gi].lr;
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi) {
      at::Tensor p = groups_[gi].params[pi].detach();
      const at::Tensor grad = groups_[gi].params[pi].grad();
      if (!grad.defined()) continue;
      State& s = state_[gi][pi];
      if (!s.exp_avg.defined()) {
        s.exp_avg = at::zeros_like(p);
        s.exp_avg_sq = at::zeros_like(p);
      }
      ++s.step;
      if (wd_ != 0) p.mul_(1 - lr * wd_);
      s.exp_avg.lerp_(grad, 1 - beta1_);
      s.exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1 - beta2_);
      const double step = static_cast<double>(s.step);
      const double bias_correction1 = 1 - std::pow(beta1_, step);
      const double bias_correction2 = 1 - std::pow(beta2_, step);
      const double step_size = lr / bias_correction1;
      const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
      at::Tensor denom = (s.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps_);
      p.addcdiv_(s.exp_avg, denom, -step_size);
    }
  }
}

nlohmann::json BlockTraining::to_json() const {
  nlohmann::json j = {{"epoch_loss", epoch_loss},
                      {"epoch_grad_norm", epoch_grad_norm},
                      {"optimizer_steps", optimizer_steps},
                      {"skipped_steps", skipped_steps},
                      {"seconds", seconds},
                      {"cpu_seconds", cpu_seconds}};
  if (nonfinite) {
    j["nonfinite_loss"] = {{"epoch", nonfinite->epoch},
                           {"step", nonfinite->step},
                           {"loss", std::isnan(nonfinite->loss) ? "nan" : "inf"},
                           {"restored", "parameters of the last finite loss"}};
  }
  return j;
}

BlockTraining train_block(OmniBlock& block, const at::Tensor& inputs, const at::Tensor& targets,
                          const at::Tensor& aug_targets, const AttentionContext& ctx,
                          const TrainSettings& s) {
  const auto start = SteadyClock::now();
  const std::clock_t cpu_start = std::clock();
  BlockTraining out;
  block.set_mode(BlockMode::kTrain);
  const std::vector<at::Tensor> let = block.let_parameters(), lwc = block.lwc_parameters();
  std::vector<at::Tensor> all = let;
  all.insert(all.end(), lwc.begin(), lwc.end());
  if (all.empty()) throw InternalError("omniquant: training without LET or LWC parameters");
  AdamW optimizer({{let, s.let_lr}, {lwc, s.lwc_lr}}, s.wd);
  LossScaler scaler;
  scaler.enabled = s.autocast == c10::kHalf;
  const int64_t steps = inputs.size(0) / s.batch_size;
  std::vector<double> norms;
  std::vector<at::Tensor> last_finite;
  for (int64_t epoch = 0; epoch < s.epochs; ++epoch) {
    const size_t first = out.step_loss.size();
    for (int64_t j = 0; j < steps; ++j) {
      const int64_t row = j * s.batch_size;
      at::Tensor loss;
      {
        CudaAutocast autocast(s.autocast);
        block.prepare_step();
        const at::Tensor y = block.forward(inputs.narrow(0, row, s.batch_size), ctx);
        loss = at::mse_loss(targets.narrow(0, row, s.batch_size), y);
        if (s.aug_loss) loss = loss + at::mse_loss(aug_targets.narrow(0, row, s.batch_size), y);
      }
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        if (!last_finite.empty()) put_back(all, last_finite);
        out.nonfinite = NonFiniteLoss{epoch, j, value};
        break;
      }
      last_finite = snapshot(all);
      out.step_loss.push_back(value);
      optimizer.zero_grad();
      (scaler.enabled ? loss * scaler.scale : loss).backward();
      const double norm = unscale_and_norm(all, scaler.enabled ? scaler.scale : 1.0);
      const bool finite = std::isfinite(norm);
      if (finite) {
        optimizer.step();
        ++out.optimizer_steps;
        norms.push_back(norm);
      } else {
        ++out.skipped_steps;
      }
      scaler.update(finite);
    }
    if (out.step_loss.size() > first) {
      out.epoch_loss.push_back(mean(out.step_loss, first));
      out.epoch_grad_norm.push_back(mean(norms, 0));
    }
    norms.clear();
    if (out.nonfinite) break;
  }
  optimizer.zero_grad();
  out.seconds = seconds_since(start);
  out.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return out;
}

}  // namespace slmq::omniquant
