"""transformers running the bundled Gemma-3-270M (Q4_K_M GGUF) on the weights it dequantizes
itself, in fp32 on CPU: the Gemma-3 end-to-end reference.

Prompts are token ids from the real Gemma-3 HF tokenizer (shared data), with BOS as the HF
tokenizer adds it: "The capital of France is" and a longer sentence, so the test also checks
the greedy continuation names Paris. Output reference.safetensors as gen_smollm2_logits.py
(generated_ids [B,16]) and prompts.json (the texts and their ids).
"""
import json

from _gguf_common import ROOT, model_path
from _gguf_transformers import load_gguf_model, logits_and_greedy

INPUT_PACKAGES = ("transformers", "gguf", "torch", "safetensors", "tokenizers")

TEXTS = ["The capital of France is",
         "Photosynthesis converts light energy into chemical energy, which plants store as"]
NEW_TOKENS = 16
TOKENIZER = ROOT / "assets" / "data" / "tokenizers" / "gemma3" / "tokenizer.json"


def generate(out_dir):
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    rows = [tokenizer.encode(text).ids for text in TEXTS]
    if rows[0][0] != 2:  # Gemma's <bos>; tokenizer.json's post-processor adds it
        rows = [[2] + r for r in rows]
    model = load_gguf_model(torch, model_path("gemma-3-270m-q4_k_m.gguf"))
    save_file(logits_and_greedy(torch, model, rows, NEW_TOKENS), out_dir / "reference.safetensors")
    (out_dir / "prompts.json").write_text(json.dumps({"texts": TEXTS, "ids": rows}, indent=1))
