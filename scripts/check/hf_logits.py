"""transformers' fp32 CPU logits for an HF checkpoint folder on given inputs.

  python scripts/check/hf_logits.py MODEL_DIR INPUTS.safetensors OUT.safetensors
INPUTS holds input_ids and attention_mask [B,T] (left padding); OUT gets logits [B,T,V] fp32.
Used by tests to check that transformers reads what `slmquant convert` writes.
"""
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")


def main(model_dir, inputs, out):
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForCausalLM

    data = load_file(inputs)
    ids, mask = data["input_ids"], data["attention_mask"]
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
    save_file({"logits": logits.float().contiguous()}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
