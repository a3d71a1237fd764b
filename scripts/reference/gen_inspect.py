"""Reference statistics for `slmquant inspect` (calib/model_inspect.h), computed with numpy from
torch forward pre-hooks on a tiny random Llama whose norms carry outlier channels
(_outlier_models): the golden data of tests/reference/inspect_test.cpp.

Definitions, from the header (not from the C++ code): weights W [out, in]: abs_max = max|W|,
channel abs-max c_j = max_i |W_ij|, spread = max c / median c, kurtosis = E[(w-mean)^4]/Var^2
(population moments over all entries, float64); activations at each linear input over the
unpadded tokens: a_j = max_t |x_tj|, per-token max m_t = max_j |x_tj|; median = the lower middle
element of the sorted values (torch.median's rule); outlier share = mean(c > factor * median c);
top-k = channels by decreasing abs-max (stable).

Output: model/ (config.json, model.safetensors), windows.json {ids: [[...]], mask: [[...]]}
(the last window right-padded), expected.json {top_k, outlier_factor, linears: [{layer, linear,
weight: {...}, activation: {..., tokens, token_max: {median, mean, max}}}]}.
"""
import json
import pathlib

import numpy as np

from _outlier_models import build, calibration_ids

INPUT_PACKAGES = ("torch", "transformers", "numpy", "safetensors")
TOP_K = 5
FACTOR = 4.0


def lower_median(v):
    return float(np.sort(v)[(len(v) - 1) // 2])


def channel_summary(channel_abs_max):
    c = np.asarray(channel_abs_max, dtype=np.float32)
    med = lower_median(c)
    order = np.argsort(-c, kind="stable")[:TOP_K]
    return {"abs_max": float(c.max()), "median": med, "spread": float(c.max()) / med,
            "outlier_share": float(np.mean(c > FACTOR * med)),
            "top": [[int(i), float(c[i])] for i in order]}


def generate(out_dir):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out_dir = pathlib.Path(out_dir)
    config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                         rms_norm_eps=1e-5, tie_word_embeddings=False)
    model = build(torch, LlamaForCausalLM, config, seed=7).to(torch.float32)
    model.save_pretrained(str(out_dir / "model"))
    ids = calibration_ids(torch, 3, 16, config.vocab_size, seed=11)
    mask = torch.ones_like(ids)
    mask[2, 10:] = 0  # right padding in the last window
    (out_dir / "windows.json").write_text(json.dumps({"ids": ids.tolist(), "mask": mask.tolist()}))

    inputs = {}
    hooks = []
    for li, layer in enumerate(model.model.layers):
        for name, mod in layer.named_modules():
            if isinstance(mod, torch.nn.Linear):
                def hook(m, args, key=(li, name)):
                    inputs.setdefault(key, []).append(args[0].detach())
                hooks.append(mod.register_forward_pre_hook(hook))
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask)
    keep = mask.reshape(-1).bool().numpy()
    linears = []
    for li, layer in enumerate(model.model.layers):
        for name, mod in layer.named_modules():
            if not isinstance(mod, torch.nn.Linear):
                continue
            w = mod.weight.detach().numpy().astype(np.float32)
            wd = w.astype(np.float64).ravel()
            d = wd - wd.mean()
            weight = channel_summary(np.abs(w).max(axis=0))
            weight["kurtosis"] = float(np.mean(d ** 4) / np.mean(d ** 2) ** 2)
            x = torch.cat(inputs[(li, name)]).reshape(-1, w.shape[1]).numpy()[keep]
            act = channel_summary(np.abs(x).max(axis=0))
            tm = np.abs(x).max(axis=1)
            act["tokens"] = int(x.shape[0])
            act["token_max"] = {"median": lower_median(tm), "mean": float(np.mean(tm.astype(np.float64))),
                                "max": float(tm.max())}
            linears.append({"layer": li, "linear": name, "weight": weight, "activation": act})
    (out_dir / "expected.json").write_text(json.dumps(
        {"top_k": TOP_K, "outlier_factor": FACTOR, "linears": linears}, indent=1))


if __name__ == "__main__":
    import sys

    generate(sys.argv[1])
