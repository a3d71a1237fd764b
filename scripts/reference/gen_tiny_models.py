"""Tiny random-initialised HF models of every supported architecture, with reference outputs.

For each model folder (written by transformers' save_pretrained) this writes reference.safetensors:
  input_ids [B,T] int64, attention_mask [B,T] int64 (left padding), position_ids [B,T] int64
  logits_float32 / logits_bfloat16 / logits_float16 [B,T,V] float32: HF forward in that dtype
  prompt_ids / prompt_mask [B,P], generated_ids [B,32]: HF greedy generate, fp32, EOS disabled
and cases.json describing the models. The C++ parity tests compare slmquant against these.
The Qwen3, Gemma-3 and Phi-3 models get random norm weights (transformers initialises them to
one, or to zero for Gemma's 1 + w), so a norm applied the wrong way cannot go unnoticed.
"""
import json

INPUT_PACKAGES = ("torch", "transformers", "safetensors")

BATCH_LENGTHS = [12, 7, 10]  # valid tokens per row; rows are left-padded to the longest
PROMPT_LENGTHS = [6, 3, 5]
NEW_TOKENS = 32


def base(**kw):
    common = dict(vocab_size=384, hidden_size=64, intermediate_size=160, num_hidden_layers=3,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, initializer_range=0.08)
    common.update(kw)
    return common


def model_specs():
    from transformers import (Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM,
                              MistralConfig, MistralForCausalLM, Phi3Config, Phi3ForCausalLM,
                              Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)
    half = 8  # head_dim 16 -> 8 rotary frequencies
    return [
        # SmolLM2-like: tied embeddings, GQA.
        ("llama_tied", LlamaForCausalLM, LlamaConfig(**base(tie_word_embeddings=True)), None),
        # Llama-3.2-like: llama3 rope scaling, untied head, saved as shards with an index.
        ("llama3_scaled_sharded", LlamaForCausalLM, LlamaConfig(**base(
            tie_word_embeddings=False, hidden_size=96, num_attention_heads=6, num_key_value_heads=2,
            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
            rope_theta=500000.0)), "60KB"),
        # Qwen2: q/k/v bias, tied embeddings, MHA-to-GQA ratio 3.
        ("qwen2_bias_tied", Qwen2ForCausalLM, Qwen2Config(**base(
            tie_word_embeddings=True, num_attention_heads=6, num_key_value_heads=2, hidden_size=96,
            rope_theta=1000000.0)), None),
        # Mistral: sliding window shorter than the sequences, untied head.
        ("mistral_window", MistralForCausalLM, MistralConfig(**base(
            tie_word_embeddings=False, sliding_window=5, head_dim=16)), None),
        # Qwen3: per-head q/k RMSNorm, no biases, explicit head_dim, tied; the last layer has a
        # sliding window (use_sliding_window from max_window_layers).
        ("qwen3_qknorm", Qwen3ForCausalLM, Qwen3Config(**base(
            tie_word_embeddings=True, head_dim=16, use_sliding_window=True, sliding_window=5,
            max_window_layers=2)), None),
        # Gemma-3 text: sandwich (1 + w) norms, q/k norms, GELU-tanh, scaled embeddings,
        # query_pre_attn_scalar != head_dim, sliding layers with their own RoPE base, linear
        # scaling on the global layer, final logit soft-capping, MQA, tied.
        ("gemma3_sandwich", Gemma3ForCausalLM, Gemma3TextConfig(**base(
            num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=24, sliding_window=5,
            layer_types=["sliding_attention", "sliding_attention", "full_attention"],
            rope_parameters={"full_attention": {"rope_type": "linear", "factor": 2.0,
                                                "rope_theta": 1000000.0},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
            final_logit_softcapping=5.0, tie_word_embeddings=True, pad_token_id=0)), None),
        # Phi-3: fused qkv_proj / gate_up_proj, LongRoPE whose original context (8) the test
        # sequences pass, untied head, MHA.
        ("phi3_longrope", Phi3ForCausalLM, Phi3Config(**base(
            num_key_value_heads=4, max_position_embeddings=64, original_max_position_embeddings=8,
            tie_word_embeddings=False, pad_token_id=0,
            rope_scaling={"rope_type": "longrope",
                          "short_factor": [1.0 + 0.1 * i for i in range(half)],
                          "long_factor": [1.0 + 0.5 * i for i in range(half)]})), None),
    ]


# Families whose norms start at transformers' constant init: randomised for a sharper test.
RANDOM_NORMS = {"qwen3_qknorm", "gemma3_sandwich", "phi3_longrope"}
# LongRoPE switches to the long factors when a forward call's positions pass the original context,
# so a cached decode (short factors for the prefix's keys) differs from a full forward. For these
# models the references also hold the cached decode computed by the model's own forward with a
# DynamicCache, and the greedy ids come from that loop, not from generate(): Phi-3's
# prepare_inputs_for_generation drops the cache when the length first passes the original context,
# and in transformers 5 the step then sees only its own token (cache_position slicing), which is
# not the model's function.
KV_DIFFERS_FROM_FULL = {"phi3_longrope"}


def randomise_norms(torch, model):
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.normal_(0.0, 0.3)


def padded_batch(torch, lengths, vocab, generator):
    width = max(lengths)
    ids = torch.zeros(len(lengths), width, dtype=torch.int64)
    mask = torch.zeros(len(lengths), width, dtype=torch.int64)
    for row, n in enumerate(lengths):
        ids[row, width - n:] = torch.randint(3, vocab, (n,), generator=generator)
        mask[row, width - n:] = 1
    return ids, mask


def positions(mask):
    pos = mask.cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 1)


def cached_decode_logits(torch, model, ids, mask):
    """The C++ KV-cache test's schedule: the first half as one call, then one slot per call."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    pos = positions(mask)
    total, half = ids.shape[1], ids.shape[1] // 2
    cuts = [(0, half)] + [(t, t + 1) for t in range(half, total)]
    pieces = []
    for a, b in cuts:
        out = model(input_ids=ids[:, a:b], attention_mask=mask[:, :b], position_ids=pos[:, a:b],
                    past_key_values=cache, use_cache=True)
        pieces.append(out.logits)
    return torch.cat(pieces, 1)


def cached_greedy(torch, model, prompt, prompt_mask, new_tokens):
    """Greedy ids from the model's forward with a DynamicCache, EOS disabled."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    mask = prompt_mask.clone()
    pos = positions(mask)
    out = model(input_ids=prompt, attention_mask=mask, position_ids=pos, past_key_values=cache,
                use_cache=True)
    next_pos = pos[:, -1:] + 1
    tokens = []
    for _ in range(new_tokens):
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        tokens.append(token)
        mask = torch.cat([mask, torch.ones_like(token)], 1)
        out = model(input_ids=token, attention_mask=mask, position_ids=next_pos,
                    past_key_values=cache, use_cache=True)
        next_pos = next_pos + 1
    return torch.cat(tokens, 1)


def reference_outputs(torch, model, vocab, name):
    import copy

    g = torch.Generator().manual_seed(1234)
    ids, mask = padded_batch(torch, BATCH_LENGTHS, vocab, g)
    pos = positions(mask)
    out = {"input_ids": ids, "attention_mask": mask, "position_ids": pos}
    with torch.no_grad():
        for dtype in (torch.float32, torch.bfloat16, torch.float16):
            # A copy per dtype: converting in place would carry bf16 rounding into fp16 and fp32.
            m = copy.deepcopy(model).to(dtype)
            logits = m(input_ids=ids, attention_mask=mask, position_ids=pos).logits
            out["logits_" + str(dtype).removeprefix("torch.")] = logits.float()
        prompt, prompt_mask = padded_batch(torch, PROMPT_LENGTHS, vocab, g)
        if name in KV_DIFFERS_FROM_FULL:
            out["logits_kv_decode"] = cached_decode_logits(torch, model, ids, mask).float()
            generated = cached_greedy(torch, model, prompt, prompt_mask, NEW_TOKENS)
        else:
            gen = model.generate(input_ids=prompt, attention_mask=prompt_mask, do_sample=False,
                                 max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                 eos_token_id=None, pad_token_id=0)
            generated = gen[:, prompt.shape[1]:]
    out["prompt_ids"] = prompt
    out["prompt_mask"] = prompt_mask
    out["generated_ids"] = generated.contiguous()
    return out


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    cases = []
    for index, (name, cls, config, shard) in enumerate(model_specs()):
        torch.manual_seed(100 + index)
        model = cls(config).eval()
        if name in RANDOM_NORMS:
            randomise_norms(torch, model)
        folder = out_dir / name
        kwargs = {"max_shard_size": shard} if shard else {}
        model.save_pretrained(folder, **kwargs)
        save_file(reference_outputs(torch, model, config.vocab_size, name),
                  folder / "reference.safetensors")
        cases.append({"name": name, "architecture": cls.__name__, "sharded": bool(shard),
                      "num_parameters": model.num_parameters(),
                      "kv_decode_equals_full_forward": name not in KV_DIFFERS_FROM_FULL})
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1))
