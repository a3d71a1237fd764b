"""transformers running SmolLM2-135M-Instruct on the weights dequantized from the bundled GGUF.

The model is built from AutoConfig(gguf_file=...) and loaded with transformers' own
load_gguf_checkpoint (dequantization, names, Q/K un-permutation), then run in fp32 on CPU.
Output reference.safetensors: input_ids / attention_mask [B,T] (left padding), logits [B,T,V]
fp32, prompt_ids / prompt_mask and generated_ids [B,32] (greedy, EOS disabled).
"""
import os

from _gguf_common import smollm2_path

INPUT_PACKAGES = ("transformers", "gguf", "torch", "safetensors")

PROMPTS = [
    [1, 504, 3458, 282, 4649, 314],  # arbitrary ids; the model is exercised, not the tokenizer
    [30, 2130, 28, 3502, 2657, 2177, 314, 2347, 4240, 30, 216],
    [504, 1311],
]
NEW_TOKENS = 32


def padded(torch, rows):
    width = max(map(len, rows))
    ids = torch.zeros(len(rows), width, dtype=torch.int64)
    mask = torch.zeros(len(rows), width, dtype=torch.int64)
    for r, row in enumerate(rows):
        ids[r, width - len(row):] = torch.tensor(row)
        mask[r, width - len(row):] = 1
    return ids, mask


def generate(out_dir):
    os.environ.setdefault("TQDM_DISABLE", "1")
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    path = smollm2_path()
    config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    loaded = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)
    missing, unexpected = model.load_state_dict(loaded["tensors"], strict=False)
    assert not [m for m in missing if m != "lm_head.weight"] and not unexpected, (missing, unexpected)
    model.tie_weights()
    ids, mask = padded(torch, PROMPTS)
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
        gen = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=NEW_TOKENS,
                             min_new_tokens=NEW_TOKENS, eos_token_id=None, pad_token_id=0)
    save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.float().contiguous(),
               "generated_ids": gen[:, ids.shape[1]:].contiguous()}, out_dir / "reference.safetensors")
