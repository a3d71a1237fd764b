"""RTN fake quantization of the tiny models, run through transformers: the expected logits of
slmquant's `rtn` method.

The tiny models are rebuilt here from gen_tiny_models' specs and seeds and saved into this
generator's own folder, so the weights the C++ test quantizes are exactly the ones quantized here.
For each scheme every nn.Linear inside the decoder layers (and lm_head when asked, untied from the
embeddings) gets its weight replaced by the reference quantize-dequantize (_quant_ref.py, computed
in fp32 from the weight in the compute dtype, cast back), and a forward pre-hook fake-quantizes its
input when the scheme quantizes activations. Writes <model>/ (HF checkpoint), reference.safetensors
(input_ids, attention_mask, position_ids, logits_<scheme> f32) and cases.json.
"""
import copy
import json

import _quant_ref as ref
import gen_tiny_models as tiny

INPUT_PACKAGES = ("torch", "transformers", "safetensors")

# name -> quant block (as in a run config) and compute dtype.
SCHEMES = {
    "w4a16_ct_g32": dict(dtype="float32", quant=dict(
        method="rtn", scheme="w4a16", weight=dict(group_size=32))),
    "w8a8_ct": dict(dtype="float32", quant=dict(method="rtn", scheme="w8a8")),
    "w4a8_gptq_asym_g48": dict(dtype="float32", quant=dict(
        method="rtn", scheme="w4a8_asym", weight=dict(group_size=48, flavour="gptq"),
        activation=dict(symmetric=False, flavour="gptq"))),
    "w4a4_quarot": dict(dtype="float32", quant=dict(
        method="rtn", scheme="w4a4", weight=dict(granularity="per_channel", flavour="quarot"),
        activation=dict(symmetric=False, flavour="quarot"))),
    "w3a16_awq_asym_g16_lmhead": dict(dtype="float32", quant=dict(
        method="rtn", scheme="w3a16_asym", weight=dict(group_size=16, flavour="awq"), quantize_lm_head=True)),
    "w8a16_omniquant_lmhead": dict(dtype="float32", quant=dict(
        method="rtn", scheme="w8a16", weight=dict(flavour="omniquant"), quantize_lm_head=True)),
    "w4a16_ct_g32_bf16": dict(dtype="bfloat16", quant=dict(
        method="rtn", scheme="w4a16", weight=dict(group_size=32))),
    "w4a8_llmc_g32_bf16": dict(dtype="bfloat16", quant=dict(
        method="rtn", scheme="w4a8", weight=dict(group_size=32, flavour="llmc"), activation=dict(flavour="llmc"))),
}


def resolve(quant):
    """The weight and activation settings a quant block means (mirrors the scheme presets)."""
    name = quant["scheme"]
    wbits, abits = int(name[1]), int(name.split("a")[1].split("_")[0])
    asym = name.endswith("_asym")
    w = dict(bits=wbits, symmetric=not asym, granularity="per_channel" if wbits == 8 else "per_group",
             group_size=0 if wbits == 8 else 128, flavour="compressed_tensors")
    w.update(quant.get("weight", {}))
    if "group_size" in quant.get("weight", {}):
        w["granularity"] = "per_group"
    if w["granularity"] != "per_group":
        w["group_size"] = 0
    act = None
    if abits < 16:
        act = dict(bits=abits, symmetric=True, granularity="per_token", flavour="compressed_tensors")
        act.update(quant.get("activation", {}))
    return w, act, quant.get("quantize_lm_head", False)


def quantize_model(torch, model, w, act, lm_head):
    targets = [(n, m) for n, m in model.named_modules()
               if isinstance(m, torch.nn.Linear) and n.startswith("model.layers.")]
    if lm_head:
        targets.append(("lm_head", model.lm_head))
    for name, module in targets:
        weight = module.weight.data
        codes, s, z = ref.quantize_weight(weight.float(), w["flavour"], w["bits"], w["symmetric"],
                                          w["granularity"], w["group_size"])
        if w["granularity"] == "per_group":
            deq = ref.dequantize_weight(codes, s, z, w["group_size"])
        else:
            deq = ref.dequantize(codes, s, z)
        # A new Parameter: a tied lm_head must not write through into the embeddings.
        module.weight = torch.nn.Parameter(deq.to(weight.dtype), requires_grad=False)
        if act is not None:
            module.register_forward_pre_hook(
                lambda _m, args, a=act: (ref.fake_quantize_activation(
                    args[0], a["flavour"], a["bits"], a["symmetric"], a["granularity"]),))


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(1234)
    ids, mask = None, None
    cases = []
    for index, (name, cls, config, _) in enumerate(tiny.model_specs()):
        torch.manual_seed(100 + index)
        model = cls(config).eval()
        model.save_pretrained(out_dir / name)
        if ids is None:
            ids, mask = tiny.padded_batch(torch, tiny.BATCH_LENGTHS, config.vocab_size, g)
        pos = tiny.positions(mask)
        out = {"input_ids": ids, "attention_mask": mask, "position_ids": pos}
        with torch.no_grad():
            for scheme, spec in SCHEMES.items():
                w, act, lm_head = resolve(spec["quant"])
                m = copy.deepcopy(model).to(getattr(torch, spec["dtype"]))
                quantize_model(torch, m, w, act, lm_head)
                out["logits_" + scheme] = m(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        save_file({k: v.contiguous() for k, v in out.items()}, out_dir / name / "reference.safetensors")
        cases.append(name)
    (out_dir / "cases.json").write_text(json.dumps({"models": cases, "schemes": SCHEMES}, indent=1))
