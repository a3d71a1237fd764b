"""slmquant's compressed-tensors checkpoints, loaded by transformers with the compressed-tensors
package: the logits and dequantized weights the C++ test compares slmquant's own load against.

The tiny models are rebuilt from gen_tiny_models' specs and seeds into <model>/fp. For each scheme,
the slmquant binary (BUILD_DIR or <repo>/build, so this generator runs after the build and is
regenerated whenever the binary changes) quantizes that folder with RTN and writes
<model>/<scheme>/ as a compressed-tensors checkpoint. transformers then loads it on CPU in fp32
(AutoModelForCausalLM; compressed-tensors decompresses the weights and fake-quantizes the
dynamic input activations in each Linear's forward) and this writes <model>/<scheme>.safetensors:
  logits [B,T,V] f32 for input_ids / attention_mask / position_ids (stored beside them),
  weight.<linear> f32: each quantized Linear's weight as compressed-tensors dequantized it,
and cases.json (models, schemes with their CLI arguments and the expected format).
packing.safetensors holds compressed-tensors' own pack_to_int32 of random signed codes for 2..8
bits (codes_<b> int8 [5, 77], packed_<b> along rows, packed_dim0_<b> along columns as zero points
are packed), the reference for slmquant's packer.
For schemes with activation quantization it also checks that transformers really applies it
(logits move when the input quantizers are disabled), so the comparison means something.
"""
import json
import os
import pathlib
import subprocess

import gen_tiny_models as tiny

INPUT_PACKAGES = ("torch", "transformers", "safetensors", "compressed-tensors")

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ("llama_tied", "qwen2_bias_tied", "mistral_window")

# name -> slmquant quantize arguments, the format compressed-tensors should see, and whether the
# input activations are quantized.
SCHEMES = {
    "w4a16_g32": dict(args=["--scheme", "w4a16", "--group-size", "32"], format="pack-quantized"),
    "w4a16_asym_g32": dict(args=["--scheme", "w4a16_asym", "--group-size", "32"],
                           format="pack-quantized"),
    "w4a16_gptq_g32": dict(args=["--scheme", "w4a16", "--group-size", "32", "--flavour", "gptq"],
                           format="pack-quantized"),
    "w3a16_asym_awq_g16": dict(args=["--scheme", "w3a16_asym", "--group-size", "16", "--flavour", "awq"],
                               format="pack-quantized"),
    "w8a16_lmhead": dict(args=["--scheme", "w8a16", "--quantize-lm-head"], format="pack-quantized"),
    "w8a8": dict(args=["--scheme", "w8a8"], format="int-quantized", activations=True),
    "w4a8_g32": dict(args=["--scheme", "w4a8", "--group-size", "32"], format="int-quantized",
                     activations=True),
}


def binary():
    build = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build"))
    if not build.is_absolute():
        build = ROOT / build
    return build / "slmquant"


def input_files():
    return [str(binary())]


def quantize(src, out, args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run([str(binary()), "quantize", str(src), "--method", "rtn", *args, "--out", str(out)],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def load_and_run(torch, folder, ids, mask, pos):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    config = json.loads((folder / "config.json").read_text())["quantization_config"]
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        out = {"logits": logits}
        # After the first forward the weights are decompressed in place.
        for name, module in model.named_modules():
            if getattr(module, "quantization_scheme", None) is not None:
                out["weight." + name] = module.weight.detach().float().clone()
        activations = any(g.get("input_activations") for g in config["config_groups"].values())
        if activations:
            for module in model.modules():
                if getattr(module, "quantization_scheme", None) is not None:
                    module.quantization_enabled = False
            plain = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
            if (plain - logits).abs().max().item() < 1e-4:
                raise RuntimeError(f"{folder}: transformers did not quantize the input activations")
    return out, config["format"]


def packing_reference(torch):
    from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32

    g = torch.Generator().manual_seed(7)
    out = {}
    for bits in range(2, 9):
        half = 1 << (bits - 1)
        codes = torch.randint(-half, half, (5, 77), generator=g, dtype=torch.int64).to(torch.int8)
        out[f"codes_{bits}"] = codes
        out[f"packed_{bits}"] = pack_to_int32(codes, bits)
        out[f"packed_dim0_{bits}"] = pack_to_int32(codes, bits, packed_dim=0)
    return out


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    save_file(packing_reference(torch), out_dir / "packing.safetensors")

    g = torch.Generator().manual_seed(1234)
    ids, mask = None, None
    for index, (name, cls, config, _) in enumerate(tiny.model_specs()):
        if name not in MODELS:
            continue
        torch.manual_seed(100 + index)
        model = cls(config).eval()
        fp = out_dir / name / "fp"
        model.save_pretrained(fp)
        if ids is None:
            ids, mask = tiny.padded_batch(torch, tiny.BATCH_LENGTHS, config.vocab_size, g)
            pos = tiny.positions(mask)
            save_file({"input_ids": ids, "attention_mask": mask, "position_ids": pos},
                      out_dir / "inputs.safetensors")
        for scheme, spec in SCHEMES.items():
            folder = out_dir / name / scheme
            quantize(fp, folder, spec["args"])
            out, fmt = load_and_run(torch, folder, ids, mask, pos)
            if fmt != spec["format"]:
                raise RuntimeError(f"{folder}: format {fmt}, expected {spec['format']}")
            save_file({k: v.contiguous() for k, v in out.items()}, out_dir / name / f"{scheme}.safetensors")
    (out_dir / "cases.json").write_text(json.dumps({"models": MODELS, "schemes": SCHEMES}, indent=1))
