"""transformers running a real GGUF model on the weights it dequantizes itself (shared by the
real-model logit generators)."""
import os


def load_gguf_model(torch, path):
    """The fp32 CPU model transformers builds from AutoConfig(gguf_file=...), loaded with its own
    load_gguf_checkpoint (dequantization, names, Q/K un-permutation, Gemma's norm shift)."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    loaded = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)
    missing, unexpected = model.load_state_dict(loaded["tensors"], strict=False)
    assert not [m for m in missing if m != "lm_head.weight"] and not unexpected, (missing, unexpected)
    model.tie_weights()
    return model


def padded(torch, rows):
    """Left-padded ids and mask [B,T] int64 for token rows of different lengths."""
    width = max(map(len, rows))
    ids = torch.zeros(len(rows), width, dtype=torch.int64)
    mask = torch.zeros(len(rows), width, dtype=torch.int64)
    for r, row in enumerate(rows):
        ids[r, width - len(row):] = torch.tensor(row)
        mask[r, width - len(row):] = 1
    return ids, mask


def logits_and_greedy(torch, model, rows, new_tokens):
    """Reference tensors: input_ids / attention_mask [B,T], logits [B,T,V] fp32 and the greedy
    continuation generated_ids [B,new_tokens] (EOS disabled)."""
    ids, mask = padded(torch, rows)
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
        gen = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                             max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                             eos_token_id=None, pad_token_id=0)
    return {"input_ids": ids, "attention_mask": mask, "logits": logits.float().contiguous(),
            "generated_ids": gen[:, ids.shape[1]:].contiguous()}
