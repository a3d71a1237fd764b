"""transformers running SmolLM2-135M-Instruct on the weights dequantized from the bundled GGUF.

The model is built from AutoConfig(gguf_file=...) and loaded with transformers' own
load_gguf_checkpoint (dequantization, names, Q/K un-permutation), then run in fp32 on CPU.
Output reference.safetensors: input_ids / attention_mask [B,T] (left padding), logits [B,T,V]
fp32, generated_ids [B,32] (greedy, EOS disabled).
"""
from _gguf_common import smollm2_path
from _gguf_transformers import load_gguf_model, logits_and_greedy

INPUT_PACKAGES = ("transformers", "gguf", "torch", "safetensors")

PROMPTS = [
    [1, 504, 3458, 282, 4649, 314],  # arbitrary ids; the model is exercised, not the tokenizer
    [30, 2130, 28, 3502, 2657, 2177, 314, 2347, 4240, 30, 216],
    [504, 1311],
]
NEW_TOKENS = 32


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    model = load_gguf_model(torch, smollm2_path())
    save_file(logits_and_greedy(torch, model, PROMPTS, NEW_TOKENS), out_dir / "reference.safetensors")
