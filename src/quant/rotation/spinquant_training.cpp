#include "slmq/quant/rotation/spinquant_training.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "slmq/core/error.h"
#include "slmq/core/timing.h"
#include "slmq/data/python_random.h"
#include "slmq/model/model.h"
#include "slmq/quant/quantizer.h"
#include "slmq/quant/rotation/cayley_sgd.h"
#include "slmq/quant/rotation/online_hadamard.h"

namespace slmq {
namespace {

at::Tensor straight_through(const at::Tensor& x, const at::Tensor& quantized) {
  return x + (quantized - x).detach();
}

// A decoder linear during training: y = Q_a(x)·W_effᵀ + b_eff, where W_eff and b_eff are leaves
// set once per step (their gradients are pushed through the rotations afterwards).
class RotatingLinear final : public LinearBackend {
 public:
  RotatingLinear(const DenseLinear& base, std::optional<QuantSpec> activation)
      : weight_(base.weight().to(at::kFloat).clone()),
        bias_(base.bias().defined() ? base.bias().to(at::kFloat).clone() : at::Tensor()),
        activation_(std::move(activation)) {}

  at::Tensor forward(const at::Tensor& x) const override {
    at::Tensor in = x;
    if (activation_) in = straight_through(x, fake_quantize_activation(x.detach(), *activation_));
    return at::linear(in, leaf_weight_.to(x.scalar_type()),
                      leaf_bias_.defined() ? leaf_bias_.to(x.scalar_type()) : at::Tensor());
  }
  int64_t in_features() const override { return weight_.size(1); }
  int64_t out_features() const override { return weight_.size(0); }
  std::vector<at::Tensor> stored_tensors() const override { return {weight_}; }
  int64_t parameters() const override { return weight_.numel(); }
  std::string kind() const override { return "rotating"; }

  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }
  void set_effective(at::Tensor w, at::Tensor b) {
    leaf_weight_ = std::move(w);
    leaf_bias_ = std::move(b);
  }
  const at::Tensor& leaf_weight() const { return leaf_weight_; }
  const at::Tensor& leaf_bias() const { return leaf_bias_; }

 private:
  at::Tensor weight_, bias_;
  std::optional<QuantSpec> activation_;
  at::Tensor leaf_weight_, leaf_bias_;
};

struct Swapped {
  int64_t layer;
  LinearRole role;
  std::unique_ptr<LinearBackend> original;
  RotatingLinear* rotating;
};

// The effective weight and bias of one linear under R1 and its layer's R2 (graph kept).
std::pair<at::Tensor, at::Tensor> effective(const RotatingLinear& l, LinearRole role,
                                            const at::Tensor& r1, const at::Tensor& r2,
                                            int64_t heads, int64_t kv_heads, int64_t d) {
  at::Tensor w = l.weight(), b = l.bias();
  const bool out_side = role == LinearRole::kO || role == LinearRole::kDown;
  if (out_side) {
    w = at::matmul(r1.t(), w);
    if (b.defined()) b = at::matmul(r1.t(), b);
  } else {
    w = at::matmul(w, r1);
  }
  if (role == LinearRole::kV && r2.defined()) {
    w = at::matmul(r2.t(), w.view({kv_heads, d, -1})).reshape({kv_heads * d, -1});
    if (b.defined()) b = at::matmul(b.view({kv_heads, d}), r2).reshape({-1});
  }
  if (role == LinearRole::kO && r2.defined())
    w = at::matmul(w.view({w.size(0), heads, d}), r2).reshape({w.size(0), heads * d});
  return {w, b};
}

// Mean next-token cross-entropy of rows `ids` [B, T] through the rotated network; backward()
// scaled by `weight` runs inside.
double forward_backward(Model& model, const at::Tensor& ids, const at::Tensor& mask,
                        const at::Tensor& r1, double weight) {
  const int64_t b = ids.size(0), t = ids.size(1);
  at::Tensor h = at::matmul(model.embed(ids), r1.to(model.dtype()));
  const at::Tensor positions =
      at::arange(t, at::TensorOptions().dtype(at::kLong).device(model.device())).expand({b, t});
  const AttentionContext ctx = model.causal_attention_context(positions);
  for (int64_t i = 0; i < model.num_layers(); ++i) h = model.layer(i).forward(h, ctx);
  const at::Tensor logits = model.head(at::matmul(h, r1.t().to(model.dtype())));
  at::Tensor labels = ids.narrow(1, 1, t - 1).to(model.device());
  if (mask.defined())
    labels = labels.masked_fill(mask.narrow(1, 1, t - 1).to(model.device()) == 0, -100);
  const at::Tensor loss = at::cross_entropy_loss(
      logits.narrow(1, 0, t - 1).reshape({-1, logits.size(-1)}).to(at::kFloat),
      labels.reshape({-1}), {}, at::Reduction::Mean, -100, 0.0);
  (loss * weight).backward();
  return loss.item<double>();
}

}  // namespace

RotationTrainingResult train_rotations(
    Model& model, const QuantConfig& config, const CalibrationWindows& data, RotationMatrices init,
    const std::function<void(int64_t step, double loss)>& progress) {
  const SpinQuantOptions& opt = config.options<SpinQuantOptions>();
  if (data.size() == 0) throw InternalError("spinquant: no training windows");
  if (!init.r1.defined() || static_cast<int64_t>(init.r2.size()) != model.num_layers())
    throw InternalError("spinquant: training needs R1 and one R2 per layer");
  at::AutoGradMode grad_mode(true);
  const ModelConfig& c = model.config();
  // Norm weights made ordinary tensors (a loaded one may be an inference tensor, which autograd
  // cannot save).
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    DecoderLayer& layer = model.layer(i);
    for (int r = 0; r < kNormRoles; ++r) {
      const auto role = static_cast<NormRole>(r);
      if (layer.has_norm(role)) layer.set_norm_gain(role, layer.norm_gain(role).clone());
    }
  }
  model.set_final_norm_gain(model.final_norm_gain().clone());
  std::vector<Swapped> swapped;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    for (LinearRole role : kAllLinearRoles) {
      auto& inner = unwrap_online_slot(model.layer(i).linear(role));
      const auto* dense = dynamic_cast<const DenseLinear*>(inner.get());
      if (dense == nullptr) throw InternalError("spinquant: a decoder linear is not dense");
      auto rot =
          std::make_unique<RotatingLinear>(*dense, rotated_activation_spec(model, config, role));
      RotatingLinear* ptr = rot.get();
      swapped.push_back({i, role, std::move(inner), ptr});
      inner = std::move(rot);
    }
  }
  const auto on_device = at::TensorOptions().dtype(at::kFloat).device(model.device());
  std::vector<at::Tensor> params = {init.r1.to(on_device).clone().requires_grad_(true)};
  for (const auto& r : init.r2) params.push_back(r.to(on_device).clone().requires_grad_(true));
  data::PyRandom rng(rotation_options(config).seed);
  RotationTrainingResult result;
  const int64_t chunk = data.seqlen() > 512 ? 1 : opt.batch_size;
  int64_t next_row = 0;
  for (int64_t step = 0; step < opt.steps; ++step) {
    for (auto& p : params) p.mutable_grad() = at::Tensor();
    auto t0 = SteadyClock::now();
    std::vector<at::Tensor> eff;  // weights (and biases) with their graphs, per swapped linear
    for (const Swapped& s : swapped) {
      auto [w, b] = effective(*s.rotating, s.role, params[0], params[1 + s.layer], c.num_heads,
                              c.num_kv_heads, c.head_dim);
      if (opt.train_weights) {
        const at::Tensor q =
            dequantize(rotation_options(config).w_clip
                           ? quantize_weight_mse_clip(w.detach(), config.scheme.weight)
                           : quantize_weight(w.detach(), config.scheme.weight));
        w = straight_through(w, q.to(w.scalar_type()));
      }
      s.rotating->set_effective(w.detach().requires_grad_(true),
                                b.defined() ? b.detach().requires_grad_(true) : at::Tensor());
      eff.push_back(w);
      eff.push_back(b);
    }
    result.fold_seconds += seconds_since(t0);
    t0 = SteadyClock::now();
    double loss = 0;
    for (int64_t done = 0; done < opt.batch_size;) {
      const int64_t n = std::min(chunk, opt.batch_size - done);
      std::vector<int64_t> rows;
      for (int64_t k = 0; k < n; ++k) rows.push_back((next_row++) % data.size());
      const at::Tensor idx = at::tensor(rows, at::kLong);
      const at::Tensor ids = data.ids.index_select(0, idx);
      const at::Tensor mask = data.mask.defined() ? data.mask.index_select(0, idx) : at::Tensor();
      const double w = static_cast<double>(n) / static_cast<double>(opt.batch_size);
      loss += w * forward_backward(model, ids, mask, params[0], w);
      done += n;
    }
    result.forward_backward_seconds += seconds_since(t0);
    t0 = SteadyClock::now();
    // Push the leaves' gradients through the rotations: d/dR Σ_i <W_eff,i(R), G_i>.
    at::Tensor surrogate = at::zeros({}, on_device);
    for (size_t k = 0; k < swapped.size(); ++k) {
      const RotatingLinear& l = *swapped[k].rotating;
      if (l.leaf_weight().grad().defined())
        surrogate = surrogate + (eff[2 * k] * l.leaf_weight().grad()).sum();
      if (l.leaf_bias().defined() && l.leaf_bias().grad().defined())
        surrogate = surrogate + (eff[2 * k + 1] * l.leaf_bias().grad()).sum();
    }
    surrogate.backward();
    std::vector<at::Tensor> grads;
    for (auto& p : params)
      grads.push_back(p.grad().defined() ? p.grad().detach().clone() : at::zeros_like(p));
    const double norm = clip_grad_norm(grads, opt.max_grad_norm);
    const double lr = cosine_lr(opt.lr, step, opt.steps);
    for (size_t k = 0; k < params.size(); ++k) {
      const bool retract = draw_retraction(rng);
      CayleyStep s = cayley_sgd_step(params[k].detach(), grads[k], lr, retract);
      result.retractions += s.retracted ? 1 : 0;
      params[k] = s.r.requires_grad_(true);
    }
    result.update_seconds += seconds_since(t0);
    result.losses.push_back(loss);
    result.grad_norms.push_back(norm);
    if (progress) progress(step, loss);
  }
  for (Swapped& s : swapped)
    unwrap_online_slot(model.layer(s.layer).linear(s.role)) = std::move(s.original);
  result.rotations.r1 = params[0].detach();
  for (size_t k = 1; k < params.size(); ++k) result.rotations.r2.push_back(params[k].detach());
  return result;
}

}  // namespace slmq
