#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (fuzz/README.md), built from small pieces of the real files.

Usage: fuzz_seeds.py OUT_DIR [DATA_DIR]. Writes OUT_DIR/<target>/<name> for every target; the
committed hand-made seeds in fuzz/seeds/ are used beside these by scripts/fuzz.sh. DATA_DIR is the
benchmark data folder (default assets/data); seeds whose source file is absent are skipped.
Inputs are kept small (a few KB): libFuzzer mutates small inputs far faster.
"""
import json
import os
import random
import struct
import sys
from pathlib import Path

import numpy as np

# ggml types the reader knows: (name, id, block size, bytes per block).
GGML_TYPES = [("F32", 0, 1, 4), ("F16", 1, 1, 2), ("BF16", 30, 1, 2), ("Q4_0", 2, 32, 18),
              ("Q4_1", 3, 32, 20), ("Q5_0", 6, 32, 22), ("Q5_1", 7, 32, 24), ("Q8_0", 8, 32, 34),
              ("Q2_K", 10, 256, 84), ("Q3_K", 11, 256, 110), ("Q4_K", 12, 256, 144),
              ("Q5_K", 13, 256, 176), ("Q6_K", 14, 256, 210)]


def write(out: Path, target: str, name: str, data: bytes) -> None:
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def head_lines(path: Path, n: int) -> bytes:
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(n))


def gguf_model(rng: random.Random, type_name: str) -> bytes:
    """A one-layer llama GGUF (hidden 32, vocab 8) whose projections are stored as `type_name`."""
    import gguf  # the project venv's reference package

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"slmq-seed-{os.getpid()}.gguf"
    w = gguf.GGUFWriter(str(tmp), "llama")
    hidden, vocab, ff = 256 if type_name.endswith("_K") else 32, 8, 64
    w.add_block_count(1)
    w.add_context_length(64)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ff)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(["<s>", "</s>", "a", "b", "ab", "Ġ", "Ġa", "c"])
    w.add_token_types([3, 3, 1, 1, 1, 1, 1, 1])
    w.add_token_merges(["a b", "Ġ a"])
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    _, type_id, block, size = next(t for t in GGML_TYPES if t[0] == type_name)
    qtype = gguf.GGMLQuantizationType(type_id)

    def raw(name: str, rows: int, cols: int, qt=qtype, blk=block, sz=size) -> None:
        data = np.frombuffer(rng.randbytes(rows * cols // blk * sz), dtype=np.uint8)
        w.add_tensor(name, data.reshape(rows, cols // blk * sz), raw_dtype=qt)

    f32 = gguf.GGMLQuantizationType.F32
    raw("token_embd.weight", vocab, hidden, f32, 1, 4)
    raw("output_norm.weight", 1, hidden, f32, 1, 4)
    raw("blk.0.attn_norm.weight", 1, hidden, f32, 1, 4)
    raw("blk.0.ffn_norm.weight", 1, hidden, f32, 1, 4)
    head_dim = hidden // 4
    for name, rows in [("attn_q", hidden), ("attn_k", 2 * head_dim), ("attn_v", 2 * head_dim),
                       ("attn_output", hidden), ("ffn_gate", ff), ("ffn_up", ff)]:
        raw(f"blk.0.{name}.weight", rows, hidden)
    raw("blk.0.ffn_down.weight", hidden, ff if ff % block == 0 else block)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = tmp.read_bytes()
    tmp.unlink()
    return data


def safetensors_file(tensors: dict, metadata: dict) -> bytes:
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, blob) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


SAFETENSORS_BITS = {"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
                    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
                    "I64": 64, "U64": 64, "F64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}


def shrunk_checkpoint(path: Path, rng: random.Random, keep: int) -> bytes:
    """The first `keep` tensors of a real checkpoint's header (names, dtypes, metadata), each
    dimension cut to at most 4 and the data random: the real table's layout in a few KB."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])[:keep]:
        shape = [min(d, 4) for d in entry["shape"]]
        bits = SAFETENSORS_BITS[entry["dtype"]] * int(np.prod(shape, dtype=np.int64))
        tensors[name] = (entry["dtype"], shape, rng.randbytes(bits // 8))
    return safetensors_file(tensors, metadata)


def tiny_tokenizer(path: Path, keep: int) -> bytes:
    """The real tokenizer.json with its vocabulary cut to the first `keep` ids."""
    tok = json.loads(path.read_text())
    model = tok["model"]
    vocab = model.get("vocab")
    if isinstance(vocab, dict):
        model["vocab"] = {t: i for t, i in vocab.items() if i < keep}
        merges = []
        for m in model.get("merges", []):
            a, b = m if isinstance(m, list) else m.split(" ", 1)
            if a in model["vocab"] and b in model["vocab"] and a + b in model["vocab"]:
                merges.append(m)
        model["merges"] = merges
    elif isinstance(vocab, list):
        model["vocab"] = vocab[:keep]
    tok["added_tokens"] = [t for t in tok.get("added_tokens", []) if t["id"] < keep][:8]
    return json.dumps(tok).encode()


def main() -> None:
    out = Path(sys.argv[1])
    data = Path(sys.argv[2] if len(sys.argv) > 2 else "assets/data")
    rng = random.Random(0)

    for i, (name, _, block, size) in enumerate(GGML_TYPES):
        write(out, "gguf_dequant", name, bytes([i]) + rng.randbytes(2 * size))
    for name in ["F32", "F16", "Q8_0", "Q4_1", "Q4_K", "Q6_K"]:
        write(out, "gguf", name + ".gguf", gguf_model(rng, name))

    write(out, "safetensors", "mixed.safetensors", safetensors_file(
        {"w": ("F32", [2, 3], rng.randbytes(24)), "b": ("BF16", [3], rng.randbytes(6)),
         "i": ("I8", [4], rng.randbytes(4)), "e": ("F16", [0], b""),
         "f4": ("F4", [2, 2], rng.randbytes(2))}, {"format": "pt"}))
    write(out, "safetensors", "scalar.safetensors",
          safetensors_file({"s": ("F64", [], rng.randbytes(8))}, {}))

    repo = Path(__file__).resolve().parent.parent
    tiny = repo / "assets" / "models" / "tiny-llama"
    if (tiny / "model.safetensors").exists():
        write(out, "safetensors", "tiny_llama.safetensors",
              shrunk_checkpoint(tiny / "model.safetensors", rng, 12))
    # A plain config.json (the model part of the compressed_tensors_config target); configs
    # written by `slmquant quantize` are committed in fuzz/seeds/compressed_tensors_config/.
    if (tiny / "config.json").exists():
        write(out, "compressed_tensors_config", "tiny_llama_config.json",
              (tiny / "config.json").read_bytes())
    # Every run config and sweep grid of the repository; two with a --set override after a NUL.
    configs = sorted((repo / "configs").glob("*.yaml")) + \
        sorted((repo / "configs").glob("*/*.yaml"))
    for path in configs:
        if path.parent.name != "tasks":
            name = str(path.relative_to(repo / "configs")).replace("/", "_")
            write(out, "run_config", name, path.read_bytes())
    demo = repo / "configs" / "tiny_demo.yaml"
    if demo.exists():
        write(out, "run_config", "tiny_demo_set_quant", demo.read_bytes() + b"\0quant.weight.bits=4")
        write(out, "run_config", "tiny_demo_set_ppl", demo.read_bytes() + b"\0ppl={seqlen: 64}")

    tokenizers = data / "tokenizers"
    for family in ["llama3", "qwen3", "gemma3"]:
        path = tokenizers / family / "tokenizer.json"
        if path.exists():
            write(out, "tokenizer_json", family + ".json", tiny_tokenizer(path, 400))
    texts = [b"Hello world! The capital of France is Paris.",
             "naïve café – 日本語のテキスト 😀 <|endoftext|> <bos>".encode(),
             b"  leading spaces\n\ttabs and 1234567 digits\r\n", b"\xff\xfe invalid \xc3 utf8"]
    wiki = data / "wikitext2" / "wiki.test.raw"
    if wiki.exists():
        texts.append(head_lines(wiki, 12)[:2000])
    for i, text in enumerate(texts):
        for t in range(3):
            write(out, "tokenizer_encode", f"text{i}_{t}", bytes([t]) + text)

    jsonl = [("arc/ARC-Easy-validation.jsonl", 0), ("gsm8k/test.jsonl", 3)]
    for rel, selector in jsonl:
        if (data / rel).exists():
            write(out, "dataset_jsonl", Path(rel).stem, bytes([selector]) + head_lines(data / rel, 3))
    write(out, "dataset_jsonl", "mmlu_hf", bytes([1]) + json.dumps(
        {"question": "Q?", "subject": "anatomy", "choices": ["a", "b", "c", "d"], "answer": 2}).encode() + b"\n")
    write(out, "dataset_jsonl", "piqa_hf", bytes([2]) + json.dumps(
        {"goal": "g", "sol1": "a", "sol2": "b", "label": 1}).encode() + b"\n")
    write(out, "dataset_jsonl", "hellaswag_hf", bytes([4]) + json.dumps(
        {"ind": 4, "activity_label": "Removing ice from car", "ctx_a": "Then, the man writes.",
         "ctx_b": "then", "ctx": "Then, the man writes. then", "endings": ["a", "b [title] c", "d", "e"],
         "source_id": "x", "split": "val", "split_type": "indomain", "label": "3"}).encode() + b"\n")
    write(out, "dataset_jsonl", "wikitext_hf", bytes([5]) + json.dumps(
        {"page": " = Title = \n\n Some text @-@ here . \n"}).encode() + b"\n")

    mmlu = sorted((data / "mmlu" / "data" / "test").glob("*_test.csv")) if (data / "mmlu").exists() else []
    header = b"question,choice0,choice1,choice2,choice3,answer\n"
    write(out, "dataset_csv", "quoted", header + b'"A, ""quoted""\nquestion",a,b,c,d,2\nQ2,1,2,3,4,0\n')
    if mmlu:
        write(out, "dataset_csv", "anatomy", head_lines(mmlu[0], 4))

    hella = data / "hellaswag" / "hellaswag_val_full.txt"
    if hella.exists():
        write(out, "dataset_text", "hellaswag", bytes([0]) + head_lines(hella, 12))
    if wiki.exists():
        write(out, "dataset_text", "wikitext", bytes([1]) + head_lines(wiki, 30)[:4000])
    piqa = data / "piqa"
    if (piqa / "dev.jsonl").exists():
        write(out, "dataset_text", "piqa", bytes([2]) + head_lines(piqa / "dev.jsonl", 3) + b"\0" +
              head_lines(piqa / "dev-labels.lst", 3))


if __name__ == "__main__":
    main()
