"""A Llama-3.2-style tiny model (llama3 RoPE scaling) written as GGUF the way llama.cpp's converter
writes it: Q/K rows permuted (LlamaModel.permute) and the RoPE scaling stored as a `rope_freqs`
tensor of per-frequency divisors instead of metadata (convert_hf_to_gguf.py,
LlamaModel.generate_extra_tensors, re-derived here from the llama3 formula). transformers' GGUF
loader ignores rope_freqs, so the reference is the HF model itself: its fp32 logits on a batch.

Output: model.gguf, reference.safetensors (input_ids, attention_mask [B,T]; logits [B,T,V] fp32),
rope_freqs.json (the divisors).
"""
import json
import math

import numpy as np

INPUT_PACKAGES = ("transformers", "gguf", "torch", "numpy", "safetensors")

HIDDEN, FFN, HEADS, KV_HEADS, LAYERS, VOCAB = 96, 160, 6, 2, 2, 384
HEAD_DIM = HIDDEN // HEADS
ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16}
THETA = 500000.0


def rope_divisors():
    """1 for high frequencies, `factor` for low ones, the inverse of the smooth blend between."""
    factor, low, high = ROPE["factor"], ROPE["low_freq_factor"], ROPE["high_freq_factor"]
    old = ROPE["original_max_position_embeddings"]
    out = []
    for i in range(0, HEAD_DIM, 2):
        freq = 1.0 / (THETA ** (i / HEAD_DIM))
        wavelen = 2 * math.pi / freq
        if wavelen < old / high:
            out.append(1.0)
        elif wavelen > old / low:
            out.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return out


def permute(w, n_head):
    """llama.cpp's LlamaModel.permute: within each head, interleave the two rotary halves."""
    rows = w.shape[0]
    return (w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2)
            .reshape(w.shape))


def write_gguf(path, state, divisors):
    from gguf import GGMLQuantizationType, GGUFWriter

    w = GGUFWriter(str(path), "llama")
    for key, value in [("block_count", LAYERS), ("context_length", 256), ("embedding_length", HIDDEN),
                       ("feed_forward_length", FFN), ("attention.head_count", HEADS),
                       ("attention.head_count_kv", KV_HEADS), ("rope.dimension_count", HEAD_DIM)]:
        w.add_uint32(f"llama.{key}", value)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_float32("llama.rope.freq_base", THETA)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "llama-bpe")
    w.add_array("tokenizer.ggml.tokens", [f"t{i}" for i in range(VOCAB - 2)] + ["t", "0"])
    w.add_array("tokenizer.ggml.merges", ["t 0"])
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    block = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
             "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate",
             "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    w.add_tensor("rope_freqs.weight", np.asarray(divisors, dtype=np.float32),
                 raw_dtype=GGMLQuantizationType.F32)
    for name, tensor in state.items():
        data = tensor.numpy().astype(np.float32)
        if name.startswith("model.layers."):
            layer, rest = name[len("model.layers."):].split(".", 1)
            module = rest.rsplit(".", 1)[0]
            if module == "self_attn.q_proj":
                data = permute(data, HEADS)
            if module == "self_attn.k_proj":
                data = permute(data, KV_HEADS)
            gguf_name = f"blk.{layer}.{block[module]}.weight"
        else:
            gguf_name = names[name]
        w.add_tensor(gguf_name, data, raw_dtype=GGMLQuantizationType.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def generate(out_dir):
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(11)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN,
                         num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                         num_key_value_heads=KV_HEADS, max_position_embeddings=256, rms_norm_eps=1e-5,
                         rope_theta=THETA, rope_scaling=ROPE, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2, initializer_range=0.08)
    model = LlamaForCausalLM(config).eval()
    divisors = rope_divisors()
    write_gguf(out_dir / "model.gguf", model.state_dict(), divisors)
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(3, VOCAB, (2, 40), generator=g)  # past the original context of 16
    mask = torch.ones_like(ids)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.float().contiguous()},
              out_dir / "reference.safetensors")
    (out_dir / "rope_freqs.json").write_text(json.dumps(divisors))
