"""Reference quantizers written from specs/quant_methods.md §1, one function per repository flavour,
in the style of each repository's own code (row-wise find_params, column slices for groups) rather
than in slmquant's structure, so the C++ implementation is checked against an independent one.

Every function works on fp32 torch tensors and rounds half to even (torch.round).
Returns (codes, scale, zero) with codes/zero as float tensors holding integers.
"""
import torch

FLAVOURS = ("gptq", "compressed_tensors", "quarot", "llmc", "omniquant", "awq")


def _bounds(flavour, bits, sym):
    """Integer code range (qmin, qmax) of the flavour."""
    if flavour == "compressed_tensors" or (sym and flavour in ("quarot", "llmc", "awq")):
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


def ragged_groups_allowed(flavour, sym, activation=False):
    # GPTQ slices W[:, i:i+g]; QuaRot's GPTQ weight path does too; OmniQuant zero-pads (symmetric
    # only); compressed-tensors unflattens, LLMC raises, AWQ asserts, QuaRot activations reshape.
    if flavour == "gptq":
        return True
    if flavour == "quarot":
        return not activation
    if flavour == "omniquant":
        return sym
    return False


def find_params(xmin, xmax, flavour, bits, sym, clip=1.0, activation=False, include_zero=None):
    """Scale and zero from per-row raw min/max (1-D tensors)."""
    if include_zero is None:
        include_zero = flavour in ("gptq", "compressed_tensors", "quarot")
    xmin = xmin.clone().float()
    xmax = xmax.clone().float()
    if include_zero:
        tmp = torch.zeros_like(xmin)
        xmin = torch.minimum(xmin, tmp)
        xmax = torch.maximum(xmax, tmp)
    if clip != 1.0:
        xmin = xmin * clip
        xmax = xmax * clip
    maxq = 2 ** bits - 1
    half = 2 ** (bits - 1)
    if flavour == "gptq":
        if sym:
            xmax = torch.maximum(torch.abs(xmin), xmax)
            neg = xmin < 0
            xmin[neg] = -xmax[neg]
        dead = (xmin == 0) & (xmax == 0)
        xmin[dead] = -1
        xmax[dead] = +1
        scale = (xmax - xmin) / maxq
        zero = torch.full_like(scale, (maxq + 1) / 2) if sym else torch.round(-xmin / scale)
        return scale, zero
    if flavour == "compressed_tensors":
        if sym:
            scale = torch.max(torch.abs(xmin), torch.abs(xmax)) / (float(maxq) / 2)
            zero = torch.zeros_like(scale)
        else:
            scale = (xmax - xmin) / float(maxq)
            zero = torch.clamp(-half - xmin / scale, -half, half - 1)
            zero[scale == 0] = 0  # reference: NaN (0/0); defined as 0 here and in slmquant
        scale = torch.where(scale == 0, torch.tensor(torch.finfo(torch.float32).eps), scale)
        return scale, torch.round(zero)
    if flavour == "quarot":
        if sym:
            xmax = torch.maximum(torch.abs(xmin), xmax)
            if not activation:
                xmax = xmax.clamp(min=1e-5)
            scale = xmax / (half - 1)
            if activation:
                scale[xmax == 0] = 1
            return scale, torch.zeros_like(scale)
        dead = (xmin == 0) & (xmax == 0)
        xmin[dead] = -1
        xmax[dead] = +1
        rng = xmax - xmin
        if not activation:
            rng = rng.clamp(min=1e-5)
        scale = rng / maxq
        return scale, torch.round(-xmin / scale)
    if flavour in ("llmc", "awq"):
        if sym:
            m = torch.max(torch.abs(xmin), torch.abs(xmax)).clamp(min=1e-5)
            scale = m / (half - 1)
            return scale, torch.zeros_like(scale)
        scale = (xmax - xmin).clamp(min=1e-5) / maxq
        zero = torch.clamp(-torch.round(xmin / scale), 0, maxq)
        return scale, zero
    if flavour == "omniquant":
        if sym:
            scale = (torch.max(xmax.abs(), xmin.abs()) / (half - 1)).clamp(min=1e-5, max=1e4)
            return scale, torch.full_like(scale, half - 1)
        scale = ((xmax - xmin) / maxq).clamp(min=1e-5, max=1e4)
        zero = (-xmin / scale).clamp(min=-1e4, max=1e4).round()
        return scale, zero
    raise ValueError(flavour)


def quantize(x, scale, zero, flavour, bits, sym):
    qmin, qmax = _bounds(flavour, bits, sym)
    if flavour == "compressed_tensors":
        return torch.clamp(torch.round(x / scale + zero), qmin, qmax)
    return torch.clamp(torch.round(x / scale) + zero, qmin, qmax)


def dequantize(q, scale, zero):
    return (q - zero) * scale


def quantize_weight(w, flavour, bits, sym, granularity, group_size=0, clip=1.0):
    """w [out, in] fp32 -> codes [out, in], scale/zero [out, groups] ([1, 1] per tensor).
    Raises NotImplementedError where the flavour rejects a ragged group size."""
    w = w.float()
    rows, cols = w.shape
    if granularity == "per_tensor":
        s, z = find_params(w.min().reshape(1), w.max().reshape(1), flavour, bits, sym, clip)
        return quantize(w, s, z, flavour, bits, sym), s.reshape(1, 1), z.reshape(1, 1)
    g = group_size if granularity == "per_group" else cols
    if cols % g and not ragged_groups_allowed(flavour, sym):
        raise NotImplementedError(f"{flavour}: group {g} does not divide {cols}")
    codes = torch.empty_like(w)
    scales, zeros = [], []
    for i in range(0, cols, g):
        block = w[:, i:i + g]
        s, z = find_params(block.min(1)[0], block.max(1)[0], flavour, bits, sym, clip)
        codes[:, i:i + g] = quantize(block, s.unsqueeze(1), z.unsqueeze(1), flavour, bits, sym)
        scales.append(s)
        zeros.append(z)
    return codes, torch.stack(scales, 1), torch.stack(zeros, 1)


def dequantize_weight(codes, scale, zero, group):
    cols = codes.shape[1]
    s = scale.repeat_interleave(group, 1)[:, :cols]
    z = zero.repeat_interleave(group, 1)[:, :cols]
    return dequantize(codes, s, z)


def quantize_activation(x, flavour, bits, sym, granularity, group_size=0, clip=1.0, static=None):
    """x [..., C] -> codes [N, C], scale/zero [N, 1] (per token), [N, C/g] (per group) or [1, 1]."""
    c = x.shape[-1]
    v = x.float().reshape(-1, c)
    if static is not None:
        s, z = static
        return quantize(v, s, z, flavour, bits, sym), s, z
    if granularity == "per_tensor":
        s, z = find_params(v.min().reshape(1), v.max().reshape(1), flavour, bits, sym, clip, activation=True)
        s, z = s.reshape(1, 1), z.reshape(1, 1)
        return quantize(v, s, z, flavour, bits, sym), s, z
    if granularity == "per_token":
        s, z = find_params(v.min(1)[0], v.max(1)[0], flavour, bits, sym, clip, activation=True)
        s, z = s.unsqueeze(1), z.unsqueeze(1)
        return quantize(v, s, z, flavour, bits, sym), s, z
    assert granularity == "per_group" and flavour == "quarot" and c % group_size == 0
    g = v.reshape(v.shape[0], c // group_size, group_size)
    s, z = find_params(g.amin(2).flatten(), g.amax(2).flatten(), flavour, bits, sym, clip,
                       activation=True, include_zero=False)
    s = s.reshape(v.shape[0], -1)
    z = z.reshape(v.shape[0], -1)
    codes = quantize(g, s.unsqueeze(2), z.unsqueeze(2), flavour, bits, sym).reshape(-1, c)
    return codes, s, z


def fake_quantize_activation(x, flavour, bits, sym, granularity, group_size=0, clip=1.0):
    codes, s, z = quantize_activation(x, flavour, bits, sym, granularity, group_size, clip)
    if granularity == "per_group":
        deq = dequantize_weight(codes, s, z, group_size)
    else:
        deq = dequantize(codes, s, z)
    return deq.reshape(x.shape).to(x.dtype)
