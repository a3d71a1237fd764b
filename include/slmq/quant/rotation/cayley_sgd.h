#pragma once
// SpinQuant's optimiser (train_utils/optimizer.py SGDG with stiefel=True, momentum 0) and the HF
// Trainer pieces around it (specs/quant_methods.md §7.4): for a square parameter R with gradient G,
//   1. X = R with each row divided by (its L2 norm + 1e-8); with probability 1/101 (Python's
//      random.randint(1, 101) == 1) X is replaced by its QR retraction (QR of Xᵀ, columns times
//      sign(diag(r)), transposed back);
//   2. V = −Gᵀ;
//   3. A = V·X, Ŵ = A − ½·Xᵀ(X·A), Ω = Ŵ − Ŵᵀ (skew-symmetric);
//   4. t = min(lr, 1 / (‖Ω‖₁ + 1e-8)), ‖Ω‖₁ the largest column abs-sum;
//   5. Y = Xᵀ + t·V, then five times Y = Xᵀ + t·Ω·½(Xᵀ + Y); the new R is Yᵀ.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "slmq/data/python_random.h"

namespace slmq {

struct CayleyStep {
  at::Tensor r;  // the updated parameter, same dtype and shape
  double t = 0;  // the step size used
  bool retracted = false;
};

// One step for r [n, n] with gradient `grad` [n, n] (same dtype; computed in that dtype).
CayleyStep cayley_sgd_step(const at::Tensor& r, const at::Tensor& grad, double lr, bool retract);

// Python's random.randint(1, 101) == 1 from `rng` (one draw per parameter per step, in parameter
// order, as SGDG does).
bool draw_retraction(data::PyRandom& rng);

// HF Trainer's cosine schedule without warm-up: lr · ½(1 + cos(π · step / total)).
double cosine_lr(double lr, int64_t step, int64_t total);

// torch.nn.utils.clip_grad_norm_: the global L2 norm over `grads`; when it exceeds max_norm every
// gradient is scaled by max_norm / (norm + 1e-6). Returns the norm before clipping.
double clip_grad_norm(std::vector<at::Tensor>& grads, double max_norm);

}  // namespace slmq
