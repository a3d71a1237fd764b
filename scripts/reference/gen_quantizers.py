"""Expected integer codes, scales, zero points and dequantized values of every quantizer flavour
(specs/quant_methods.md §1) for every bit width 2..8, symmetric and asymmetric, each weight
granularity (per tensor, per channel, per group dividing and not dividing the width) and each
activation granularity (per token, per tensor, static per tensor, per token-group), with and
without a clip ratio, on seeded random tensors with edge rows (all positive, all zero, all
negative, constant, exact .5 ties, an outlier). Computed by the reference in _quant_ref.py.

Writes reference.safetensors (inputs `weight` [24,160] f32 and `activation` [2,9,160] f32, then
case<i>.codes i16, case<i>.scale f32, case<i>.zero i32, case<i>.dequant f32) and cases.json.
"""
import importlib.metadata
import json

import _quant_ref as ref

try:  # the real library, when installed, also checks the compressed_tensors flavour
    CT_VERSION = importlib.metadata.version("compressed-tensors")
    INPUT_PACKAGES = ("torch", "safetensors", "compressed-tensors")
except importlib.metadata.PackageNotFoundError:
    CT_VERSION = None
    INPUT_PACKAGES = ("torch", "safetensors")

BITS = range(2, 9)
WEIGHT_GRANULARITIES = [("per_tensor", 0), ("per_channel", 0), ("per_group", 32), ("per_group", 48)]
ACT_GRANULARITIES = [("per_token", 0), ("per_tensor", 0), ("static", 0)]
STATIC_RANGE = (-2.5, 3.0)


def inputs(torch):
    g = torch.Generator().manual_seed(5)
    w = torch.randn(24, 160, generator=g) * 0.05
    w[0] = w[0].abs()                                   # all non-negative (GPTQ sym keeps min = 0)
    w[1] = 0                                            # all zero
    w[2] = ((torch.arange(160) % 31) - 15) * 0.5        # multiples of 0.5 up to 7.5: exact ties
    w[3, 17] = 1.0                                      # outlier
    w[4] = -w[4].abs()                                  # all non-positive
    w[5] = 0.03                                         # constant, non-zero
    w[6] = ((torch.arange(160) % 29) - 14) * 0.5        # max 7: ties for Δ = m/7
    x = torch.randn(2, 9, 160, generator=g)
    x[0, 3] = 0                                         # all-zero token
    x[1, 2, 5] = 40.0                                   # outlier token
    x[1, 4] = ((torch.arange(160) % 31) - 15) * 0.5     # ties
    return w, x


def weight_cases():
    for flavour in ref.FLAVOURS:
        for bits in BITS:
            for sym in (True, False):
                for gran, group in WEIGHT_GRANULARITIES:
                    yield dict(kind="weight", flavour=flavour, bits=bits, symmetric=sym, granularity=gran,
                               group_size=group, clip_ratio=1.0)
        for sym in (True, False):
            yield dict(kind="weight", flavour=flavour, bits=4, symmetric=sym, granularity="per_group",
                       group_size=32, clip_ratio=0.875)


def activation_cases():
    for flavour in ref.FLAVOURS:
        for bits in BITS:
            for sym in (True, False):
                for gran, _ in ACT_GRANULARITIES:
                    yield dict(kind="activation", flavour=flavour, bits=bits, symmetric=sym, granularity=gran,
                               group_size=0, clip_ratio=1.0)
        for sym in (True, False):
            yield dict(kind="activation", flavour=flavour, bits=8, symmetric=sym, granularity="per_token",
                       group_size=0, clip_ratio=0.9)
    for bits in BITS:
        for sym in (True, False):
            yield dict(kind="activation", flavour="quarot", bits=bits, symmetric=sym, granularity="per_group",
                       group_size=32, clip_ratio=1.0)


def run_weight(torch, w, c):
    try:
        codes, s, z = ref.quantize_weight(w, c["flavour"], c["bits"], c["symmetric"], c["granularity"],
                                          c["group_size"], c["clip_ratio"])
    except NotImplementedError:
        return None
    group = c["group_size"] if c["granularity"] == "per_group" else w.shape[1]
    deq = ref.dequantize(codes, s, z) if c["granularity"] == "per_tensor" else \
        ref.dequantize_weight(codes, s, z, group)
    return codes, s, z, deq


def run_activation(torch, x, c):
    static = None
    gran = c["granularity"]
    if gran == "static":
        lo, hi = STATIC_RANGE
        s, z = ref.find_params(torch.tensor([lo]), torch.tensor([hi]), c["flavour"], c["bits"], c["symmetric"],
                               c["clip_ratio"], activation=True)
        static = (s.reshape(1, 1), z.reshape(1, 1))
        gran = "per_tensor"
    codes, s, z = ref.quantize_activation(x, c["flavour"], c["bits"], c["symmetric"], gran, c["group_size"],
                                          c["clip_ratio"], static)
    if gran == "per_group":
        deq = ref.dequantize_weight(codes, s, z, c["group_size"])
    else:
        deq = ref.dequantize(codes, s, z)
    return codes, s, z, deq


def check_against_compressed_tensors(torch, inp, c, result):
    """The compressed_tensors flavour of _quant_ref against the compressed-tensors package itself:
    codes, scales and zero points must be identical. Slices whose range is all zero are left out
    for asymmetric specs (the package divides 0 by 0 there; slmquant and _quant_ref use zero 0)."""
    from compressed_tensors.quantization import QuantizationArgs
    from compressed_tensors.quantization.lifecycle.forward import quantize
    from compressed_tensors.quantization.utils import calculate_qparams

    gran = c["granularity"]
    strategy = {"per_tensor": "tensor", "per_channel": "channel", "per_group": "group",
                "per_token": "token"}[gran]
    args = QuantizationArgs(num_bits=c["bits"], type="int", symmetric=c["symmetric"], strategy=strategy,
                            group_size=c["group_size"] or None, dynamic=c["kind"] == "activation")
    x = inp.reshape(-1, inp.shape[-1])
    if gran in ("per_channel", "per_token"):
        lo, hi = x.amin(1, keepdim=True), x.amax(1, keepdim=True)
    elif gran == "per_group":
        g = x.unflatten(-1, (-1, c["group_size"]))
        lo, hi = g.amin(-1), g.amax(-1)
    else:
        lo, hi = x.amin().reshape(1, 1), x.amax().reshape(1, 1)
    scale, zp = calculate_qparams(lo, hi, args)
    codes = quantize(x, scale, zp, args, dtype=torch.int8)
    ref_codes, ref_scale, ref_zero = result[0], result[1], result[2]
    keep = ~((lo == 0) & (hi == 0)) if not c["symmetric"] else torch.ones_like(lo, dtype=torch.bool)
    assert torch.equal(scale[keep], ref_scale.reshape(scale.shape)[keep]), c
    assert torch.equal(zp.float()[keep], ref_zero.reshape(zp.shape)[keep]), c
    rows = keep.all(-1) if keep.dim() == 2 else keep
    rows = rows.reshape(-1) if gran != "per_tensor" else rows.reshape(1).expand(x.shape[0])
    assert torch.equal(codes.float()[rows], ref_codes[rows]), c


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    w, x = inputs(torch)
    tensors = {"weight": w.contiguous(), "activation": x.contiguous()}
    cases = []
    for i, c in enumerate(list(weight_cases()) + list(activation_cases())):
        result = run_weight(torch, w, c) if c["kind"] == "weight" else run_activation(torch, x, c)
        c = dict(c, index=i, expect="ok" if result is not None else "unsupported")
        if c["granularity"] == "static":
            c["static_min"], c["static_max"] = STATIC_RANGE
        if result is not None and CT_VERSION and c["flavour"] == "compressed_tensors" \
                and c["clip_ratio"] == 1.0 and c["granularity"] != "static":
            check_against_compressed_tensors(torch, w if c["kind"] == "weight" else x, c, result)
            c["checked_against"] = f"compressed-tensors {CT_VERSION}"
        if result is not None:
            codes, s, z, deq = result
            assert torch.equal(codes, codes.round()) and torch.equal(z, z.round())
            tensors[f"case{i}.codes"] = codes.to(torch.int16).contiguous()
            tensors[f"case{i}.scale"] = s.float().contiguous()
            tensors[f"case{i}.zero"] = z.to(torch.int32).contiguous()
            tensors[f"case{i}.dequant"] = deq.float().contiguous()
        cases.append(c)
    save_file(tensors, out_dir / "reference.safetensors")
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1))
