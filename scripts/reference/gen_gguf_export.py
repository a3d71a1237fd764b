"""Inputs and references for the GGUF writer tests (tests/reference/gguf_export_test.cpp).

tokenizer/: a small byte-level BPE tokenizer.json in SmolLM2's layout (Digits then ByteLevel,
special <|endoftext|>, <|im_start|>, <|im_end|>, one non-special added token) trained by HF
tokenizers to at most 384 ids, the tiny models' vocabulary, with a tokenizer_config.json that has
a chat template; the tests put it beside the tiny models of gen_tiny_models.py.

quantize.json + quantize_input.f32: random fp32 rows (with an all-zero block and a block of
ties) and, per ggml type, the hex of the gguf package's quants.quantize bytes, which slmquant's
reference quantizers (io/ggml_quantize.h) must equal byte for byte.
"""
import json

import numpy as np

INPUT_PACKAGES = ("gguf", "numpy", "tokenizers")

TEXTS = ["The quick brown fox jumps over the lazy dog 12345.",
         "Small language models run on phones and laptops; quantization makes them smaller.",
         "llama.cpp reads GGUF files: tokens, merges and tensors in one file.",
         "In 2024 there were 3 models, 7 tokenizers and 11 formats!"] * 4


def tokenizer(out_dir):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok.train_from_iterator(TEXTS, trainers.BpeTrainer(
        vocab_size=380, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_tokens([AddedToken("<tool>", special=False, normalized=False)])
    doc = json.loads(tok.to_str())
    assert len(doc["model"]["vocab"]) + 1 <= 384, len(doc["model"]["vocab"])
    d = out_dir / "tokenizer"
    d.mkdir()
    (d / "tokenizer.json").write_text(json.dumps(doc, ensure_ascii=False))
    config = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "add_bos_token": False,
              "chat_template": "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
                               "{{ m['content'] }}<|im_end|>\n{% endfor %}"}
    (d / "tokenizer_config.json").write_text(json.dumps(config))


def quantize_refs(out_dir):
    from gguf import GGMLQuantizationType as T, quants

    rng = np.random.default_rng(20)
    x = rng.standard_normal((6, 128)).astype(np.float32) * np.float32(0.05)
    x[0, :32] = 0.0                                    # d = 0
    x[1, 32:64] = np.tile(np.float32([0.5, -0.5]), 16)  # ties in argmax and in the rounding
    x[2, :] *= np.float32(1e3)                         # scales far from 1
    (out_dir / "quantize_input.f32").write_bytes(x.astype("<f4").tobytes())
    refs = {}
    for t in (T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q8_0):
        refs[t.name] = np.ascontiguousarray(quants.quantize(x, t)).view(np.uint8).tobytes().hex()
    (out_dir / "quantize.json").write_text(json.dumps({"rows": 6, "cols": 128, "bytes": refs}))


def generate(out_dir):
    tokenizer(out_dir)
    quantize_refs(out_dir)
