"""Two tiny random models written as GGUF by the `gguf` package: "qwen2" (q/k/v biases, untied
lm_head, stored as in HF) and "llama" (grouped-query attention, tied embeddings, Q/K rows in
llama.cpp's permuted order), with F32, F16 and Q8_0 tensors. For each, what transformers' GGUF
loader makes of it: AutoConfig.to_dict() and the state dict that from_pretrained(gguf_file=...)
would load (transformers' load_gguf_checkpoint: dequantize, rename, reverse-permute).

Output: <arch>.gguf, <arch>.config.json, <arch>.state_dict.json (HF name -> {shape, checksum}).
"""
import json
import os

import numpy as np

from _gguf_common import checksum

INPUT_PACKAGES = ("transformers", "gguf", "torch", "numpy")

HIDDEN, FFN, HEADS, KV_HEADS, LAYERS, VOCAB = 64, 128, 4, 2, 2, 32


def block_tensors(arch):
    kv = HIDDEN // HEADS * KV_HEADS
    shapes = {"attn_norm.weight": (HIDDEN,), "attn_q.weight": (HIDDEN, HIDDEN),
              "attn_k.weight": (kv, HIDDEN), "attn_v.weight": (kv, HIDDEN),
              "attn_output.weight": (HIDDEN, HIDDEN), "ffn_norm.weight": (HIDDEN,),
              "ffn_gate.weight": (FFN, HIDDEN), "ffn_up.weight": (FFN, HIDDEN),
              "ffn_down.weight": (HIDDEN, FFN)}
    if arch == "qwen2":
        shapes.update({"attn_q.bias": (HIDDEN,), "attn_k.bias": (kv,), "attn_v.bias": (kv,)})
    return shapes


def write_model(path, arch, rng):
    from gguf import GGMLQuantizationType, GGUFWriter, quants

    w = GGUFWriter(str(path), arch)
    w.add_uint32(f"{arch}.block_count", LAYERS)
    w.add_uint32(f"{arch}.context_length", 256)
    w.add_uint32(f"{arch}.embedding_length", HIDDEN)
    w.add_uint32(f"{arch}.feed_forward_length", FFN)
    w.add_uint32(f"{arch}.attention.head_count", HEADS)
    w.add_uint32(f"{arch}.attention.head_count_kv", KV_HEADS)
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)
    w.add_float32(f"{arch}.rope.freq_base", 1000000.0)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "qwen2" if arch == "qwen2" else "llama-bpe")
    w.add_array("tokenizer.ggml.tokens", [f"t{i}" for i in range(VOCAB - 2)] + ["t", "0"])
    w.add_array("tokenizer.ggml.merges", ["t 0"])
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    names = {"token_embd.weight": (VOCAB, HIDDEN), "output_norm.weight": (HIDDEN,)}
    if arch == "qwen2":
        names["output.weight"] = (VOCAB, HIDDEN)
    for layer in range(LAYERS):
        names.update({f"blk.{layer}.{k}": v for k, v in block_tensors(arch).items()})
    kinds = [GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.Q8_0]
    for i, (name, shape) in enumerate(names.items()):
        data = rng.standard_normal(shape).astype(np.float32)
        kind = GGMLQuantizationType.F32 if len(shape) == 1 else kinds[i % 3]
        w.add_tensor(name, quants.quantize(data, kind), raw_dtype=kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def generate(out_dir):
    os.environ.setdefault("TQDM_DISABLE", "1")
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    rng = np.random.default_rng(7)
    for arch in ("qwen2", "llama"):
        path = out_dir / f"{arch}.gguf"
        write_model(path, arch, rng)
        config = AutoConfig.from_pretrained(str(out_dir), gguf_file=path.name)
        (out_dir / f"{arch}.config.json").write_text(json.dumps(config.to_dict(), indent=1, default=str))
        skeleton = AutoModelForCausalLM.from_config(config)
        loaded = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=skeleton)
        state = {k: {"shape": list(t.shape), "checksum": checksum(t.to(torch.float32).numpy())}
                 for k, t in loaded["tensors"].items()}
        (out_dir / f"{arch}.state_dict.json").write_text(json.dumps(state, indent=1))
