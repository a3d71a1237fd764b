"""SpinQuant's Cayley SGD on the Stiefel manifold, written from the spec's steps (§7.4), not from
SpinQuant's code: five steps on two parameters (R1 64x64, R2 16x16, random Hadamard initial
values) whose gradients come from a quadratic loss sum ||X R - Y||^2 evaluated at the current
rotations, with HF Trainer's global gradient-norm clipping (1.0) and cosine learning rate (1.5
over 5 steps), all in float64.

Step, for each parameter R with gradient G:
  X = R / (row norms + 1e-8); if retracting: X = (Q * sign(diag(Rq)))^T with Q, Rq = qr(X^T)
  V = -G^T; A = V X; W = A - 0.5 X^T (X A); Omega = W - W^T
  t = min(lr, 1 / (max column abs-sum of Omega + 1e-8))
  Y = X^T + t V; 5 times: Y = X^T + t Omega (X^T + Y) / 2; R <- Y^T

Retractions: the decisions are stored (steps 1 and 3 of R1 retract, to cover that path) so the
C++ replay uses the same ones; separately, 2000 draws of Python's random.randint(1, 101) == 1
after random.seed(0) are stored to check the C++ PyRandom draw.

Writes reference.safetensors: r1_init, r2_init, grad_<p>_<k> (the clipped gradients fed to step
k), r_<p>_<k> (parameter p after step k), lr per step; draws int8 [2000].
"""
import json
import math
import random

INPUT_PACKAGES = ("torch", "safetensors", "scipy")
STEPS = 5
LR = 1.5
MAX_NORM = 1.0
RETRACT = {("r1", 1), ("r1", 3)}


def random_hadamard(torch, n, gen):
    import scipy.linalg  # noqa: F401  (the Sylvester part for powers of two)
    s = torch.randint(0, 2, (n,), generator=gen).double() * 2 - 1
    h = torch.tensor(scipy.linalg.hadamard(n), dtype=torch.float64) / math.sqrt(n)
    return torch.diag(s) @ h


def cayley(torch, r, g, lr, retract):
    x = r / (r.norm(dim=1, keepdim=True) + 1e-8)
    if retract:
        q, rq = torch.linalg.qr(x.T)
        x = (q * torch.sign(torch.diag(rq)).unsqueeze(0)).T
    v = -g.T
    a = v @ x
    w = a - 0.5 * x.T @ (x @ a)
    omega = w - w.T
    t = min(lr, 1.0 / (omega.abs().sum(dim=0).max().item() + 1e-8))
    y = x.T + t * v
    for _ in range(5):
        y = x.T + t * omega @ (0.5 * (x.T + y))
    return y.T


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(3)
    params = {"r1": random_hadamard(torch, 64, gen), "r2": random_hadamard(torch, 16, gen)}
    data = {p: (torch.randn(32, r.shape[0], generator=gen, dtype=torch.float64),
                torch.randn(32, r.shape[0], generator=gen, dtype=torch.float64))
            for p, r in params.items()}
    out = {"r1_init": params["r1"].clone(), "r2_init": params["r2"].clone()}
    lrs = []
    for k in range(STEPS):
        grads = {}
        for p, r in params.items():
            rr = r.clone().requires_grad_(True)
            x, y = data[p]
            ((x @ rr - y) ** 2).sum().backward()
            grads[p] = rr.grad.detach()
        total = math.sqrt(sum((g ** 2).sum().item() for g in grads.values()))
        coef = min(1.0, MAX_NORM / (total + 1e-6))
        lr = LR * 0.5 * (1 + math.cos(math.pi * k / STEPS))
        lrs.append(lr)
        for p in params:
            g = grads[p] * coef
            out[f"grad_{p}_{k}"] = g.contiguous()
            params[p] = cayley(torch, params[p], g, lr, (p, k) in RETRACT).contiguous()
            out[f"r_{p}_{k}"] = params[p].clone()
    out["lr"] = torch.tensor(lrs, dtype=torch.float64)
    random.seed(0)
    out["draws"] = torch.tensor([random.randint(1, 101) == 1 for _ in range(2000)], dtype=torch.int8)
    save_file(out, str(out_dir / "reference.safetensors"))
    (out_dir / "cases.json").write_text(json.dumps(
        {"steps": STEPS, "retract": sorted(f"{p}:{k}" for p, k in RETRACT)}, indent=1))
