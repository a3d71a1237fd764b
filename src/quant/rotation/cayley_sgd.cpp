#include "slmq/quant/rotation/cayley_sgd.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace slmq {

CayleyStep cayley_sgd_step(const at::Tensor& r, const at::Tensor& grad, double lr, bool retract) {
  at::NoGradGuard no_grad;
  CayleyStep out;
  at::Tensor x = r / (r.norm(2, {1}, /*keepdim=*/true) + 1e-8);
  if (retract) {
    auto [q, rr] = at::linalg_qr(x.t());
    x = (q * at::sign(at::diagonal(rr)).unsqueeze(0)).t();
    out.retracted = true;
  }
  const at::Tensor v = -grad.t();
  const at::Tensor a = at::matmul(v, x);
  const at::Tensor w_hat = a - 0.5 * at::matmul(x.t(), at::matmul(x, a));
  const at::Tensor omega = w_hat - w_hat.t();
  const double norm_one = omega.abs().sum(0).max().item<double>();
  out.t = std::min(lr, 1.0 / (norm_one + 1e-8));
  const at::Tensor xt = x.t();
  at::Tensor y = xt + out.t * v;
  for (int i = 0; i < 5; ++i) y = xt + out.t * at::matmul(omega, 0.5 * (xt + y));
  out.r = y.t().contiguous();
  return out;
}

bool draw_retraction(data::PyRandom& rng) { return rng.randbelow(101) == 0; }

double cosine_lr(double lr, int64_t step, int64_t total) {
  if (total <= 0) return lr;
  return lr * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
}

double clip_grad_norm(std::vector<at::Tensor>& grads, double max_norm) {
  at::NoGradGuard no_grad;
  double sq = 0;
  for (const auto& g : grads) sq += g.to(at::kDouble).pow(2).sum().item<double>();
  const double norm = std::sqrt(sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0)
    for (auto& g : grads) g.mul_(coef);
  return norm;
}

}  // namespace slmq
