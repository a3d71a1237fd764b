"""Expected GPTQ results for one linear from a faithful torch port of IST-DASLab gptq.py
`fasterquant` (specs/quant_methods.md §3.1), written from the spec: blocked lazy updates, damping,
act-order, static and dynamic groups (dynamic group parameters from the lazily updated matrix),
dead columns. The quantizer is _quant_ref.find_params of the chosen flavour. When a Cholesky fails,
the damping is multiplied by 10 and the factorisation retried (slmquant's policy; the original
raises).

Also the Hessian accumulation of gptq.py add_batch over three calibration batches (batch<k> inputs,
hessian_accumulated). Writes reference.safetensors (weight [24,160] f32, hessian [160,160] f32,
hessian_indefinite, then case<i>.codes i16 / .scale f32 / .zero i32 / .dequant f32) and cases.json.
"""
import json

import _quant_ref as ref

INPUT_PACKAGES = ("torch", "safetensors")

CASES = [
    dict(flavour="gptq", bits=4, symmetric=False, group_size=0),
    dict(flavour="gptq", bits=4, symmetric=True, group_size=0),
    dict(flavour="gptq", bits=4, symmetric=False, group_size=32),
    dict(flavour="gptq", bits=4, symmetric=False, group_size=128),
    dict(flavour="gptq", bits=3, symmetric=False, group_size=48),
    dict(flavour="gptq", bits=4, symmetric=False, group_size=0, act_order=True),
    dict(flavour="gptq", bits=4, symmetric=True, group_size=32, act_order=True, static_groups=True),
    dict(flavour="gptq", bits=4, symmetric=False, group_size=64, static_groups=True),
    dict(flavour="gptq", bits=8, symmetric=False, group_size=0),
    dict(flavour="gptq", bits=4, symmetric=False, group_size=32, block_size=32),
    dict(flavour="compressed_tensors", bits=4, symmetric=True, group_size=32, act_order=True, static_groups=True),
    dict(flavour="gptq", bits=4, symmetric=False, group_size=0, hessian="hessian_indefinite"),
]


def params(torch, block, c):
    s, z = ref.find_params(block.min(1)[0], block.max(1)[0], c["flavour"], c["bits"], c["symmetric"])
    return s.unsqueeze(1), z.unsqueeze(1)


def fasterquant(torch, weight, hessian, c):
    g = c["group_size"] or -1
    blocksize = c.get("block_size", 128)
    actorder, static_groups = c.get("act_order", False), c.get("static_groups", False)
    W = weight.clone().float()
    cols = W.shape[1]
    scale = zero = None
    if g == -1:
        scale, zero = params(torch, W, c)
    H = hessian.clone()
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    groups = []
    if static_groups:
        groups = [params(torch, W[:, i:i + g], c) for i in range(0, cols, g)]
    dynamic = []
    perm = None
    if actorder:
        perm = torch.argsort(torch.diag(H), descending=True)
        W = W[:, perm]
        H = H[perm][:, perm]
    percdamp, retries = 0.01, 0
    while True:
        Hd = H.clone()
        damp = percdamp * torch.mean(torch.diag(Hd))
        idx = torch.arange(cols)
        Hd[idx, idx] += damp
        L, info = torch.linalg.cholesky_ex(Hd)
        if info == 0:
            U, info = torch.linalg.cholesky_ex(torch.cholesky_inverse(L), upper=True)
            if info == 0:
                break
        percdamp *= 10
        retries += 1
    Hinv = U
    Q = torch.zeros_like(W)
    codes = torch.zeros_like(W)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        count = i2 - i1
        W1 = W[:, i1:i2].clone()
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(count):
            w = W1[:, i]
            d = Hinv1[i, i]
            if g != -1:
                if not static_groups:
                    if (i1 + i) % g == 0:
                        scale, zero = params(torch, W[:, (i1 + i):(i1 + i + g)], c)
                        dynamic.append((scale, zero))
                else:
                    k = i1 + i
                    if actorder:
                        k = perm[k]
                    scale, zero = groups[k // g]
            q = ref.quantize(w.unsqueeze(1), scale, zero, c["flavour"], c["bits"], c["symmetric"])
            qd = ref.dequantize(q, scale, zero).flatten()
            codes[:, i1 + i] = q.flatten()
            Q[:, i1 + i] = qd
            err1 = (w - qd) / d
            W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
            Err1[:, i] = err1
        W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
    if actorder:
        invperm = torch.argsort(perm)
        Q = Q[:, invperm]
        codes = codes[:, invperm]
    if g == -1:
        s, z = scale, zero
    else:
        chosen = groups if static_groups else dynamic
        s = torch.cat([p[0] for p in chosen], 1)
        z = torch.cat([p[1] for p in chosen], 1)
    return codes, s, z, Q, percdamp, retries


def add_batch(torch, state, inp):
    """gptq.py GPTQ.add_batch for an nn.Linear: N counts sequences, H kept as (2/N) sum x x^T."""
    import math
    if len(inp.shape) == 2:
        inp = inp.unsqueeze(0)
    tmp = inp.shape[0]
    inp = inp.reshape((-1, inp.shape[-1])).t()
    state["H"] *= state["n"] / (state["n"] + tmp)
    state["n"] += tmp
    inp = math.sqrt(2 / state["n"]) * inp.float()
    state["H"] += inp.matmul(inp.t())


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(1)  # the C++ test runs single-threaded: same BLAS reduction order
    gen = torch.Generator().manual_seed(11)
    weight = torch.randn(24, 160, generator=gen) * 0.05
    x = torch.randn(300, 160, generator=gen) * (0.2 + 2 * torch.rand(160, generator=gen))
    x[:, 5] = 0  # a dead input channel
    x = (2 / x.shape[0]) ** 0.5 * x
    hessian = x.t().matmul(x)
    indefinite = hessian - 0.5 * hessian.diag().mean() * torch.eye(160)
    inputs = {"hessian": hessian, "hessian_indefinite": indefinite}
    tensors = {"weight": weight, **inputs}
    state = {"H": torch.zeros(160, 160), "n": 0}
    for k, shape in enumerate([(2, 50, 160), (50, 160), (3, 40, 160)]):
        batch = torch.randn(*shape, generator=gen)
        tensors[f"batch{k}"] = batch
        add_batch(torch, state, batch)
    tensors["hessian_accumulated"] = state["H"]
    cases = []
    for i, c in enumerate(CASES):
        codes, s, z, q, percdamp, retries = fasterquant(torch, weight, inputs[c.get("hessian", "hessian")], c)
        tensors[f"case{i}.codes"] = codes.to(torch.int16)
        tensors[f"case{i}.scale"] = s.contiguous()
        tensors[f"case{i}.zero"] = z.to(torch.int32).contiguous()
        tensors[f"case{i}.dequant"] = q.contiguous()
        cases.append(dict(c, index=i, percdamp_used=percdamp, cholesky_retries=retries))
    save_file({k: v.contiguous() for k, v in tensors.items()}, out_dir / "reference.safetensors")
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1))
