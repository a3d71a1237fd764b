"""Golden data for the C++ tokenizer: ids and decoded text from the PyPI `tokenizers` package.

For qwen3, llama3 and gemma3 (assets/data/tokenizers) and SmolLM2 (its tokenizer.json rebuilt
from the GGUF metadata, when the GGUF is present) this writes <name>/golden.json with, per test
string: ids with and without special tokens and three decodes; plus decodes of random id
sequences. unicode_classes.json lists the code points Oniguruma (HF's regex engine) puts in
\\s, \\p{L}, \\p{N}, \\p{M}, \\p{P} and \\p{S}. Strings that are not valid UTF-8 are stored as hex; HF, which takes a
Python str, gets `bytes.decode("utf-8", "replace")` of them. GENERATED DATA: never edit by hand.
"""
import glob
import json
import os
import pathlib
import random

from _synthetic_tokenizers import build_all
from _tokenizer_texts import DATA, ROOT, adversarial_strings, dataset_strings, special_token_strings

INPUT_PACKAGES = ("tokenizers", "gguf")
SEED = 20261122
REAL = ("qwen3", "llama3", "gemma3")
DATASET_KINDS = ("wikitext", "c4", "mmlu", "gsm8k", "arc")


def smollm2_gguf():
    env = os.environ.get("SLMQ_SMOLLM2_GGUF")
    if env:
        return pathlib.Path(env)
    found = sorted(glob.glob(str(ROOT / "assets" / "models" / "**" / "SmolLM2-135M-Instruct*.gguf"),
                             recursive=True))
    return pathlib.Path(found[0]) if found else None


def input_files():
    """Files whose change must regenerate this data (see run_generator.py)."""
    files = sorted(glob.glob(str(DATA / "tokenizers" / "*" / "*.json")))
    gguf = smollm2_gguf()
    return files + ([str(gguf)] if gguf else [])


def smollm2_tokenizer_json(gguf_path):
    """SmolLM2's tokenizer.json as the hub ships it, rebuilt from the GGUF metadata: GPT-2 byte
    level BPE whose pre-tokenizer (llama.cpp pre-type "smollm") splits digits individually."""
    from gguf import GGUFReader

    fields = GGUFReader(str(gguf_path)).fields
    value = lambda k: fields[k].contents()
    tokens, types, merges = value("tokenizer.ggml.tokens"), value("tokenizer.ggml.token_type"), \
        value("tokenizer.ggml.merges")
    assert value("tokenizer.ggml.model") == "gpt2" and value("tokenizer.ggml.pre") == "smollm"
    control = 3
    doc = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for i, (t, ty) in enumerate(zip(tokens, types)) if ty == control],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [m.split(" ") for m in merges]},
    }
    config = {"bos_token": tokens[value("tokenizer.ggml.bos_token_id")],
              "eos_token": tokens[value("tokenizer.ggml.eos_token_id")],
              "add_bos_token": bool(value("tokenizer.ggml.add_bos_token"))}
    return doc, config


def random_id_sequences(rng, vocab_size, n=300):
    seqs = [[rng.randrange(vocab_size) for _ in range(rng.randint(1, 20))] for _ in range(n)]
    seqs += [[vocab_size + 3], [0, vocab_size + 100, 1], []]  # unknown ids are skipped
    return seqs


def golden(tok, added, rng, base_cases):
    cases = list(base_cases) + special_token_strings(rng, added)
    texts = [t if isinstance(t, str) else t.decode("utf-8", "replace") for _, t in cases]
    plain = [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]
    special = [e.ids for e in tok.encode_batch(texts, add_special_tokens=True)]
    dec_plain = tok.decode_batch(plain, skip_special_tokens=False)
    dec_special = tok.decode_batch(special, skip_special_tokens=False)
    dec_skip = tok.decode_batch(special, skip_special_tokens=True)
    out = []
    for i, (kind, text) in enumerate(cases):
        case = {"kind": kind}
        if isinstance(text, bytes):
            case["text_hex"] = text.hex()
        else:
            case["text"] = text
        # A decode equal to the (repaired) input text is stored as null to keep files small.
        same = lambda d: None if d == texts[i] else d
        case.update(ids=plain[i], ids_special=special[i], decoded=same(dec_plain[i]),
                    decoded_special=same(dec_special[i]), decoded_skip=same(dec_skip[i]))
        out.append(case)
    seqs = random_id_sequences(rng, tok.get_vocab_size(with_added_tokens=True))
    decodes = [{"ids": s, "text": a, "text_skip": b} for s, a, b in
               zip(seqs, tok.decode_batch(seqs, skip_special_tokens=False),
                   tok.decode_batch(seqs, skip_special_tokens=True))]
    return {"cases": out, "decodes": decodes}


def unicode_classes():
    """Code point ranges that HF's Oniguruma matches with each class (surrogates excluded)."""
    from tokenizers import Regex, pre_tokenizers

    cps = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    text = "".join(map(chr, cps))
    out = {}
    for pattern in (r"\s", r"\p{L}", r"\p{N}", r"\p{M}", r"\p{P}", r"\p{S}"):
        kept = pre_tokenizers.Split(Regex(pattern), "removed").pre_tokenize_str(text)
        matched = bytearray([1]) * len(cps)
        for _, (start, end) in kept:
            matched[start:end] = bytes(end - start)
        ranges = []
        for i in (i for i, m in enumerate(matched) if m):
            if ranges and ranges[-1][1] + 1 == cps[i]:
                ranges[-1][1] = cps[i]
            else:
                ranges.append([cps[i], cps[i]])
        out[pattern] = ranges
    return out


CASES = []


def generate(out_dir):
    from tokenizers import Tokenizer

    out_dir = pathlib.Path(out_dir)
    rng = random.Random(SEED)
    CASES[:] = dataset_strings(rng) + adversarial_strings(rng)
    sources = {name: (DATA / "tokenizers" / name, "source") for name in REAL}
    gguf = smollm2_gguf()
    if gguf and gguf.exists():
        doc, config = smollm2_tokenizer_json(gguf)
        folder = out_dir / "smollm2"
        folder.mkdir(parents=True)
        Tokenizer.from_str(json.dumps(doc)).save(str(folder / "tokenizer.json"))
        (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
        sources["smollm2"] = (folder, "reference")
    else:
        print("[reference] tokenizers: no SmolLM2 GGUF (assets/models or SLMQ_SMOLLM2_GGUF); "
              "its golden file is skipped")
    for index, (name, (folder, root)) in enumerate(sources.items()):
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        added = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]
        data = golden(tok, added, random.Random(SEED + index), CASES)
        data["tokenizer"] = {"root": root, "path": name if root == "reference" else
                             str(folder.relative_to(ROOT))}
        (out_dir / name).mkdir(exist_ok=True)
        with open(out_dir / name / "golden.json", "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
    # Small trained tokenizers for the components the real ones do not use: the adversarial
    # strings and 1,500 dataset strings each.

    n_data = sum(1 for kind, _ in CASES if kind in DATASET_KINDS)
    subset = CASES[:1500] + CASES[n_data:]
    train_texts = [t for _, t in CASES[1500:3000]]
    for index, (name, doc) in enumerate(build_all(train_texts).items()):
        folder = out_dir / name
        folder.mkdir()
        tok = Tokenizer.from_str(json.dumps(doc))
        tok.save(str(folder / "tokenizer.json"))
        data = golden(tok, doc["added_tokens"], random.Random(SEED + 100 + index), subset)
        data["tokenizer"] = {"root": "reference", "path": name}
        with open(folder / "golden.json", "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
    with open(out_dir / "unicode_classes.json", "w") as f:
        json.dump(unicode_classes(), f)
