"""SmoothQuant on tiny models, as mit-han-lab/smoothquant (c61476d) does it, and the llm-compressor
SmoothQuantModifier variant (ab1ba3e): the expected smoothing scales and logits of slmquant's
`smoothquant` method (specs/quant_methods.md §2).

Written from the official code, in fp32 on CPU (the reference runs fp16/bf16 on GPU):
* calibration.py get_act_scales: running per-channel max |x| at the input of every nn.Linear, one
  calibration sample per forward (batch 1) on the full-precision model;
* smooth.py smooth_ln_fcs_llama_like: w_j = max over q/k/v (gate/up) rows of |W_ij|, clamped
  ≥ 1e-5; s = clamp(a^α / w^(1−α), min 1e-5); norm weight / s, linear columns · s;
* fake_quant.py quantize_llama_like: every decoder linear W8A8 (weights per-channel abs-max /127,
  inputs per-token abs-max /127, round half to even), q/k/v outputs also per-token fake-quantized
  when quantize_bmm_input;
* llm-compressor: per-channel range max − min of the norm's output, weight stat 2·max|W|,
  s = range^α / (2·maxW)^(1−α) (range where maxW = 0), then max(s, 1e-5); quantized with the
  compressed-tensors W8A8 preset (_quant_ref).
W4A8 (an LLMC SmoothQuant setting, 4-bit per-channel llmc weights) uses _quant_ref as well.

Models: gen_tiny_models' llama_tied (GQA, tied) and qwen2_bias_tied (q/k/v bias) with outlier norm
channels (_outlier_models). Writes <model>/ (HF checkpoint) and <model>/reference.safetensors with
calib_ids [N,T], input_ids/attention_mask/position_ids (the tiny models' padded batch), logits_fp,
and per case: <case>.logits_smoothed, <case>.logits_quant, <case>.layers.<i>.{attn,mlp}_scales;
cases.json holds each case's quant block.
"""
import copy
import json

import _outlier_models as om
import _quant_ref as ref
import gen_tiny_models as tiny

INPUT_PACKAGES = ("torch", "transformers", "safetensors")

MODELS = ("llama_tied", "qwen2_bias_tied")
CALIB_SAMPLES, CALIB_LENGTH = 8, 40

CASES = {
    "sq_a050_w8a8": dict(quant=dict(method="smoothquant", scheme="w8a8", smoothquant=dict(alpha=0.5))),
    "sq_a085_w8a8_bmm": dict(quant=dict(method="smoothquant", scheme="w8a8",
                                        smoothquant=dict(alpha=0.85, quantize_bmm_input=True))),
    "sq_a050_w4a8_channel": dict(quant=dict(method="smoothquant", scheme="w4a8",
                                            weight=dict(granularity="per_channel"),
                                            smoothquant=dict(alpha=0.5))),
    "llmcompressor_a080_w8a8": dict(quant=dict(method="smoothquant", scheme="w8a8",
                                               smoothquant=dict(alpha=0.8, variant="llm_compressor"))),
}


def act_absmax(torch, model, samples):
    """calibration.py get_act_scales: running max |x| per input channel of every Linear."""
    scales = {}

    def hook(name):
        def fn(_m, args, _out):
            x = args[0]
            cur = x.view(-1, x.shape[-1]).abs().detach().max(dim=0)[0].float()
            scales[name] = torch.max(scales[name], cur) if name in scales else cur
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()
               if isinstance(m, torch.nn.Linear)]
    for row in samples:
        model(row.unsqueeze(0))
    for h in handles:
        h.remove()
    return scales


def norm_output_range(torch, model, samples):
    """llm-compressor: per-channel min and max of each norm's output over the calibration set."""
    stats = {}

    def hook(name):
        def fn(_m, _args, out):
            v = out.view(-1, out.shape[-1])
            lo, hi = v.min(dim=0)[0], v.max(dim=0)[0]
            if name in stats:
                lo, hi = torch.minimum(stats[name][0], lo), torch.maximum(stats[name][1], hi)
            stats[name] = (lo, hi)
        return fn

    handles = []
    for i, layer in enumerate(model.model.layers):
        for attr in ("input_layernorm", "post_attention_layernorm"):
            handles.append(getattr(layer, attr).register_forward_hook(hook(f"{i}.{attr}")))
    for row in samples:
        model(row.unsqueeze(0))
    for h in handles:
        h.remove()
    return {k: hi - lo for k, (lo, hi) in stats.items()}


def smoothquant_scales(torch, act, fcs, alpha):
    w = torch.cat([fc.weight.abs().max(dim=0, keepdim=True)[0] for fc in fcs], dim=0)
    w = w.max(dim=0)[0].clamp(min=1e-5)
    return (act.pow(alpha) / w.pow(1 - alpha)).clamp(min=1e-5)


def llm_compressor_scales(torch, rng, fcs, alpha):
    w = 2.0 * torch.cat([fc.weight.abs().max(dim=0, keepdim=True)[0] for fc in fcs], dim=0).max(dim=0)[0]
    s = torch.where(w > 0.0, rng.pow(alpha) / w.pow(1 - alpha), rng)
    return torch.maximum(s, torch.tensor([1e-5]))


def fold(norm, fcs, s):
    norm.weight.div_(s)
    for fc in fcs:
        fc.weight.mul_(s.view(1, -1))


def smooth(torch, model, samples, sq):
    """Smooths in place; returns {layer: (attn_scales, mlp_scales)}."""
    alpha = sq["alpha"]
    out = {}
    if sq.get("variant", "smoothquant") == "llm_compressor":
        ranges = norm_output_range(torch, model, samples)
        for i, layer in enumerate(model.model.layers):
            a, m = layer.self_attn, layer.mlp
            s_attn = llm_compressor_scales(torch, ranges[f"{i}.input_layernorm"], [a.q_proj, a.k_proj, a.v_proj], alpha)
            s_mlp = llm_compressor_scales(torch, ranges[f"{i}.post_attention_layernorm"], [m.gate_proj, m.up_proj], alpha)
            fold(layer.input_layernorm, [a.q_proj, a.k_proj, a.v_proj], s_attn)
            fold(layer.post_attention_layernorm, [m.gate_proj, m.up_proj], s_mlp)
            out[i] = (s_attn, s_mlp)
        return out
    acts = act_absmax(torch, model, samples)
    for i, layer in enumerate(model.model.layers):
        a, m = layer.self_attn, layer.mlp
        s_attn = smoothquant_scales(torch, acts[f"model.layers.{i}.self_attn.q_proj"], [a.q_proj, a.k_proj, a.v_proj], alpha)
        s_mlp = smoothquant_scales(torch, acts[f"model.layers.{i}.mlp.gate_proj"], [m.gate_proj, m.up_proj], alpha)
        fold(layer.input_layernorm, [a.q_proj, a.k_proj, a.v_proj], s_attn)
        fold(layer.post_attention_layernorm, [m.gate_proj, m.up_proj], s_mlp)
        out[i] = (s_attn, s_mlp)
    return out


def absmax_fake_quant(torch, t, dim, bits=8):
    """fake_quant.py's per-channel / per-token abs-max quantize-dequantize."""
    s = t.abs().max(dim=dim, keepdim=True)[0].clamp(min=1e-5) / (2 ** (bits - 1) - 1)
    return torch.round(t / s) * s


def quantize_smoothquant_repo(torch, model, bmm):
    """fake_quant.py quantize_llama_like: W8A8 per-channel / per-token, outputs of q/k/v too."""
    for name, fc in model.named_modules():
        if not (isinstance(fc, torch.nn.Linear) and name.startswith("model.layers.")):
            continue
        fc.weight.data = absmax_fake_quant(torch, fc.weight.data, -1)
        fc.register_forward_pre_hook(lambda _m, args: (absmax_fake_quant(torch, args[0], -1),))
        if bmm and name.rsplit(".", 1)[1] in ("q_proj", "k_proj", "v_proj"):
            fc.register_forward_hook(lambda _m, _a, out: absmax_fake_quant(torch, out, -1))


def quantize_with_flavour(torch, model, wbits, flavour):
    """Per-channel symmetric weights of `wbits`, 8-bit symmetric per-token inputs (_quant_ref)."""
    for name, fc in model.named_modules():
        if not (isinstance(fc, torch.nn.Linear) and name.startswith("model.layers.")):
            continue
        codes, s, z = ref.quantize_weight(fc.weight.data.float(), flavour, wbits, True, "per_channel")
        fc.weight.data = ref.dequantize(codes, s, z)
        fc.register_forward_pre_hook(lambda _m, args: (ref.fake_quantize_activation(
            args[0], flavour, 8, True, "per_token"),))


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    specs = {name: (cls, config) for name, cls, config, _ in tiny.model_specs()}
    g = torch.Generator().manual_seed(1234)
    for index, name in enumerate(MODELS):
        cls, config = specs[name]
        model = om.build(torch, cls, config, 700 + index)
        model.save_pretrained(out_dir / name)
        calib = om.calibration_ids(torch, CALIB_SAMPLES, CALIB_LENGTH, config.vocab_size, 900 + index)
        ids, mask = tiny.padded_batch(torch, tiny.BATCH_LENGTHS, config.vocab_size, g)
        pos = tiny.positions(mask)
        out = {"calib_ids": calib, "input_ids": ids, "attention_mask": mask, "position_ids": pos}

        def logits(m):
            return m(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()

        with torch.no_grad():
            out["logits_fp"] = logits(model)
            for case, spec in CASES.items():
                q = spec["quant"]
                m = copy.deepcopy(model)
                scales = smooth(torch, m, calib, q["smoothquant"])
                for i, (s_attn, s_mlp) in scales.items():
                    out[f"{case}.layers.{i}.attn_scales"] = s_attn
                    out[f"{case}.layers.{i}.mlp_scales"] = s_mlp
                out[case + ".logits_smoothed"] = logits(m)
                if q["smoothquant"].get("variant") == "llm_compressor":
                    quantize_with_flavour(torch, m, 8, "compressed_tensors")
                elif q["scheme"] == "w4a8":
                    quantize_with_flavour(torch, m, 4, "llmc")
                else:
                    quantize_smoothquant_repo(torch, m, q["smoothquant"].get("quantize_bmm_input", False))
                out[case + ".logits_quant"] = logits(m)
        save_file({k: v.contiguous() for k, v in out.items()}, out_dir / name / "reference.safetensors")
    (out_dir / "cases.json").write_text(json.dumps({"models": list(MODELS), "cases": CASES}, indent=1))
