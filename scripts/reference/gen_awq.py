"""AWQ on tiny models as mit-han-lab/llm-awq (d6e797a) run_awq does it: the expected scale ratios,
scales, clip values, quantized weights and logits of slmquant's `awq` method
(specs/quant_methods.md §4). A port of awq/quantize/{pre_quant,auto_scale,auto_clip,quantizer}.py
to transformers 5 (layer kwargs captured with a forward pre-hook instead of the Catcher module),
in fp32 on CPU (the reference runs fp16 on GPU):
* layer 0's inputs for all calibration blocks at once; per layer, the inputs of every linear are
  captured while the full-precision layer produces the next layer's inputs;
* auto_scale_block, all groups searched on the unscaled layer: input_layernorm -> q,k,v
  (inspecting self_attn), v_proj -> o_proj only when their weights have the same shape,
  post_attention_layernorm -> gate,up (inspecting mlp), up_proj -> down_proj; for ratio k/n_grid:
  s = clamp(mean|x|^ratio, 1e-4), s /= sqrt(max s · min s), W <- Q(W·s)/s, loss = mean squared
  output difference; lowest loss wins (strict <);
* apply_scale (norm / s or previous linear's last rows and bias / s, linear columns · s, captured
  inputs / s), then auto_clip_block (not q/k): tokens strided by n_tokens // 512, per (row, group)
  max|W|·(1 − k/20) for k < 10, lowest mean squared partial-output error (strict <), clamp;
* finally every decoder linear is pseudo-quantized (asymmetric, zero point, group size).

Writes <model>/ (HF checkpoint) and <model>/reference.safetensors: calib_ids [N,T]; input_ids,
attention_mask, position_ids (the tiny models' padded batch); logits_fp, logits_quant;
layers.<i>.<group>.{ratio_index, scales, losses} for the groups attn_in, attn_out, mlp_in,
mlp_out (attn_out absent when skipped); layers.<i>.<linear>.clip_max [out, groups];
layers.<i>.<linear>.weight_q (dequantized). cases.json: models with their quant blocks.
"""
import copy
import json
from collections import defaultdict

import _outlier_models as om
import gen_tiny_models as tiny

INPUT_PACKAGES = ("torch", "transformers", "safetensors")

N_GRID, MAX_SHRINK, N_SAMPLE_TOKEN = 20, 0.5, 512
CALIB_BLOCKS, CALIB_LENGTH = 5, 256  # 1280 tokens: the clip search keeps every 2nd token


def model_specs():
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
    common = dict(vocab_size=384, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                  max_position_embeddings=512, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
                  initializer_range=0.08)
    return [
        # GQA (v_proj 128 -> 64, o_proj 128 -> 128): the v -> o scale is skipped.
        ("awq_llama_gqa", LlamaForCausalLM,
         LlamaConfig(**common, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True),
         dict(method="awq", scheme="w4a16_asym", weight=dict(group_size=32))),
        # MHA with q/k/v bias: the v -> o scale divides v_proj's rows and bias.
        ("awq_qwen2_mha", Qwen2ForCausalLM,
         Qwen2Config(**common, num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=False),
         dict(method="awq", scheme="w3a16_asym", weight=dict(group_size=64))),
    ]


def pseudo_quantize(torch, w, n_bit, group):
    """quantizer.py pseudo_quantize_tensor, zero_point=True."""
    shape = w.shape
    assert shape[-1] % group == 0
    w = w.reshape(-1, group)
    max_val, min_val = w.amax(dim=1, keepdim=True), w.amin(dim=1, keepdim=True)
    max_int = 2 ** n_bit - 1
    scales = (max_val - min_val).clamp(min=1e-5) / max_int
    zeros = (-torch.round(min_val / scales)).clamp_(0, max_int)
    w = (torch.clamp(torch.round(w / scales) + zeros, 0, max_int) - zeros) * scales
    return w.reshape(shape)


class _Stop(Exception):
    pass


def layer0_inputs(torch, model, samples):
    store = {}

    def pre_hook(_module, args, kwargs):
        store["x"], store["kwargs"] = args[0], dict(kwargs)
        raise _Stop

    handle = model.model.layers[0].register_forward_pre_hook(pre_hook, with_kwargs=True)
    try:
        model(samples, use_cache=False)
    except _Stop:
        pass
    handle.remove()
    kwargs = store["kwargs"]
    kwargs.pop("use_cache", None)
    return store["x"], kwargs


def first(out):
    return out[0] if isinstance(out, tuple) else out


def search_scale(torch, block, linears, x, kwargs, n_bit, group):
    """auto_scale.py _search_module_scale: (best ratio index, scales, losses)."""
    org_out = first(block(x, **kwargs))
    x_mean = x.abs().view(-1, x.shape[-1]).mean(0)
    saved = {k: v.clone() for k, v in block.state_dict().items()}
    best, best_index, best_scales, losses = float("inf"), -1, None, []
    for index in range(N_GRID):
        ratio = index * 1 / N_GRID
        s = x_mean.pow(ratio).clamp(min=1e-4).view(-1)
        s = s / (s.max() * s.min()).sqrt()
        for fc in linears:
            fc.weight.mul_(s.view(1, -1))
            fc.weight.data = pseudo_quantize(torch, fc.weight.data, n_bit, group) / s.view(1, -1)
        loss = (org_out - first(block(x, **kwargs))).float().pow(2).mean().item()
        losses.append(loss)
        if loss < best:
            best, best_index, best_scales = loss, index, s
        block.load_state_dict(saved)
    return best_index, best_scales.view(-1), losses


def scale_groups(layer):
    """(name, previous op, linears, captured-input key, inspected module, uses kwargs)."""
    a, m = layer.self_attn, layer.mlp
    groups = [("attn_in", layer.input_layernorm, [a.q_proj, a.k_proj, a.v_proj], "self_attn.q_proj", a, True)]
    if a.v_proj.weight.shape == a.o_proj.weight.shape:
        groups.append(("attn_out", a.v_proj, [a.o_proj], "self_attn.o_proj", a.o_proj, False))
    groups.append(("mlp_in", layer.post_attention_layernorm, [m.gate_proj, m.up_proj], "mlp.gate_proj", m, False))
    groups.append(("mlp_out", m.up_proj, [m.down_proj], "mlp.down_proj", m.down_proj, False))
    return groups


def apply_scale(torch, prev, linears, s, feats, names):
    """auto_scale.py scale_ln_fcs / scale_fc_fc, and the captured inputs divided by s."""
    if isinstance(prev, torch.nn.Linear):
        prev.weight[-s.size(0):].div_(s.view(-1, 1))
        if prev.bias is not None:
            prev.bias.div_(s.view(-1))
    else:
        prev.weight.div_(s)
    for fc in linears:
        fc.weight.mul_(s.view(1, -1))
    for name in names:
        feats[name].div_(s.view(1, -1))


def search_clip(torch, w, x, n_bit, group):
    """auto_clip.py auto_clip_layer: best max |W| per (row, group), [out, groups, 1]."""
    x = x.view(-1, x.shape[-1]).reshape(1, -1, x.shape[-1] // group, group)
    x = x[:, 0::x.shape[1] // N_SAMPLE_TOKEN]
    w = w.reshape(w.shape[0], 1, -1, group)
    batch = 256 if w.shape[0] % 256 == 0 else 64
    assert w.shape[0] % batch == 0
    best_all = []
    for b in range(w.shape[0] // batch):
        wb = w[b * batch:(b + 1) * batch]
        org_max = wb.abs().amax(dim=-1, keepdim=True)
        best_max = org_max.clone()
        min_errs = torch.ones_like(org_max) * 1e9
        org_out = (x * wb).sum(dim=-1)
        for k in range(int(MAX_SHRINK * N_GRID)):
            max_val = org_max * (1 - k / N_GRID)
            q = pseudo_quantize(torch, torch.clamp(wb, -max_val, max_val), n_bit, group)
            err = ((x * q).sum(dim=-1) - org_out).pow(2).mean(dim=1).view(min_errs.shape)
            better = err < min_errs
            min_errs[better] = err[better]
            best_max[better] = max_val[better]
        best_all.append(best_max)
    return torch.cat(best_all, dim=0).squeeze(1)


def run_awq(torch, model, samples, n_bit, group, out):
    x, kwargs = layer0_inputs(torch, model, samples)
    for i, layer in enumerate(model.model.layers):
        linears = {n: m for n, m in layer.named_modules() if isinstance(m, torch.nn.Linear)}
        captured = defaultdict(list)
        handles = [m.register_forward_hook(lambda _m, args, _o, n=n: captured[n].append(args[0].detach()))
                   for n, m in linears.items()]
        next_x = first(layer(x, **kwargs))
        for h in handles:
            h.remove()
        feats = {k: torch.cat(v, dim=0) for k, v in captured.items()}
        results = []
        for name, prev, fcs, key, block, with_kwargs in scale_groups(layer):
            index, s, losses = search_scale(torch, block, fcs, feats[key], kwargs if with_kwargs else {}, n_bit, group)
            out[f"layers.{i}.{name}.ratio_index"] = torch.tensor([index])
            out[f"layers.{i}.{name}.scales"] = s
            out[f"layers.{i}.{name}.losses"] = torch.tensor(losses, dtype=torch.float64)
            results.append((prev, fcs, s))
        for prev, fcs, s in results:
            names = [n for n, m in linears.items() if any(m is fc for fc in fcs)]
            apply_scale(torch, prev, fcs, s, feats, names)
        for name, fc in linears.items():
            if any(key in name for key in ("q_", "k_", "query", "key", "Wqkv")):
                continue
            max_val = search_clip(torch, fc.weight, feats[name], n_bit, group)
            out[f"layers.{i}.{name}.clip_max"] = max_val.squeeze(-1)
            shape = fc.weight.shape
            w = fc.weight.data.reshape(*max_val.shape[:2], -1)
            fc.weight.data = torch.clamp(w, -max_val, max_val).reshape(shape)
        x = next_x
    for i, layer in enumerate(model.model.layers):
        for name, fc in layer.named_modules():
            if isinstance(fc, torch.nn.Linear):
                fc.weight.data = pseudo_quantize(torch, fc.weight.data, n_bit, group)
                out[f"layers.{i}.{name}.weight_q"] = fc.weight.data


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(1234)
    cases = []
    for index, (name, cls, config, quant) in enumerate(model_specs()):
        model = om.build(torch, cls, config, 800 + index)
        model.save_pretrained(out_dir / name)
        calib = om.calibration_ids(torch, CALIB_BLOCKS, CALIB_LENGTH, config.vocab_size, 950 + index)
        ids, mask = tiny.padded_batch(torch, tiny.BATCH_LENGTHS, config.vocab_size, g)
        pos = tiny.positions(mask)
        out = {"calib_ids": calib, "input_ids": ids, "attention_mask": mask, "position_ids": pos}
        bits, group = int(quant["scheme"][1]), quant["weight"]["group_size"]
        with torch.no_grad():
            out["logits_fp"] = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
            m = copy.deepcopy(model)
            run_awq(torch, m, calib, bits, group, out)
            out["logits_quant"] = m(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        save_file({k: v.contiguous() for k, v in out.items()}, out_dir / name / "reference.safetensors")
        cases.append(dict(name=name, quant=quant))
    (out_dir / "cases.json").write_text(json.dumps({"models": cases, "n_grid": N_GRID,
                                                    "max_shrink": MAX_SHRINK}, indent=1))
