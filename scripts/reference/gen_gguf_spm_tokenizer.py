"""Golden data for the tokenizer slmquant builds from a SentencePiece GGUF (tokenizer.ggml.model
"llama"): Gemma-3-270M's, assets/models/gemma-3-270m-q4_k_m.gguf, against HF `tokenizers` on
google/gemma-3's tokenizer.json (assets/data/tokenizers/gemma3).

Strings: the tokenizer corpus of gen_tokenizers.py's gemma3 golden file, the same ~12,300
strings (10,000 dataset windows, adversarial strings, 402 strings built from gemma3's added
tokens), in the same order.

gemma3/golden.json (format of gen_tokenizers.py, tokenizer root "gguf") holds HF tokenizers'
ids and decodes from the hub tokenizer.json with the two things the GGUF does not carry set as
the GGUF has them, so that the C++ side must match every string:
  1. `<image_soft_token>` (id 262144) is dropped: it is the image processor's token, outside
     the GGUF's 262,144 tokens and the text model's 262,144 embedding rows.
  2. the `special` flag of each added token follows the GGUF token type by HF's SentencePiece
     converter rule (control and unknown pieces special, user-defined not). The hub file flags
     <mask> and <unused0..6241> (control in the GGUF) not special and <start_of_image> /
     <end_of_image> (user-defined) special; only decode(skip_special_tokens=True) sees this.
Everything else (vocab, merges, normalizer, pre-tokenizer, post-processor, decoder) is the hub
file verbatim. `residue` records, per field, how many strings the unmodified hub file encodes or
decodes differently, with examples; the generator asserts that every such string is explained by
(1) or (2). GENERATED DATA: never edit by hand.
"""
import copy
import json
import pathlib
import random

from gen_tokenizers import SEED, golden
from _tokenizer_texts import DATA, ROOT, adversarial_strings, dataset_strings

INPUT_PACKAGES = ("tokenizers", "gguf")
GGUF = ROOT / "assets" / "models" / "gemma-3-270m-q4_k_m.gguf"
HUB = DATA / "tokenizers" / "gemma3" / "tokenizer.json"
GEMMA3_INDEX = 2  # gen_tokenizers.py draws gemma3's special-token strings with SEED + 2
CONTROL, UNKNOWN, USER_DEFINED = 3, 2, 4
FIELDS = ("ids", "ids_special", "decoded", "decoded_special", "decoded_skip")


def input_files():
    return [str(GGUF), str(HUB)]


def gguf_vocab():
    from gguf import GGUFReader

    fields = GGUFReader(str(GGUF)).fields
    assert fields["tokenizer.ggml.model"].contents() == "llama"
    return fields["tokenizer.ggml.tokens"].contents(), fields["tokenizer.ggml.token_type"].contents()


def as_the_gguf_has_it(hub, tokens, types):
    """The hub tokenizer.json with (1) and (2) of the module docstring applied."""
    doc = copy.deepcopy(hub)
    added = [a for a in doc["added_tokens"] if a["id"] < len(tokens)]
    dropped = [a["content"] for a in doc["added_tokens"] if a["id"] >= len(tokens)]
    assert dropped == ["<image_soft_token>"], dropped
    # The GGUF's control / unknown / user-defined pieces are exactly the hub's added tokens.
    assert sorted(a["id"] for a in added) == [i for i, t in enumerate(types)
                                              if t in (CONTROL, UNKNOWN, USER_DEFINED)]
    changed = set()
    for a in added:
        special = types[a["id"]] in (CONTROL, UNKNOWN)
        if special != a["special"]:
            changed.add(a["id"])
        a["special"] = special
    doc["added_tokens"] = added
    return doc, changed


def residue(ours, hub, changed):
    """Strings whose golden entries differ between the two, per field, each one explained."""
    out = {}
    for field in FIELDS:
        differ = [i for i, (a, b) in enumerate(zip(ours, hub)) if a[field] != b[field]]
        for i in differ:
            text = hub[i].get("text", "")
            image = "<image_soft_token>" in text
            flagged = any(t in changed for t in hub[i]["ids_special"])
            explained = image or (field == "decoded_skip" and flagged)
            assert explained, (field, hub[i])
        out[field] = {"strings": len(differ),
                      "examples": [{"text": hub[i].get("text"), "hub": hub[i][field],
                                    "gguf": ours[i][field]} for i in differ[:3]]}
    out["strings_with_image_soft_token"] = sum("<image_soft_token>" in c.get("text", "")
                                               for c in hub)
    out["flag_changed_ids"] = len(changed)
    return out


def generate(out_dir):
    from tokenizers import Tokenizer

    tokens, types = gguf_vocab()
    hub = json.loads(HUB.read_text(encoding="utf-8"))
    doc, changed = as_the_gguf_has_it(hub, tokens, types)
    rng = random.Random(SEED)
    base = dataset_strings(rng) + adversarial_strings(rng)
    # Both use the hub's added tokens for the special-token strings, so the strings are the same.
    ours = golden(Tokenizer.from_str(json.dumps(doc)), hub["added_tokens"],
                  random.Random(SEED + GEMMA3_INDEX), base)
    theirs = golden(Tokenizer.from_file(str(HUB)), hub["added_tokens"],
                    random.Random(SEED + GEMMA3_INDEX), base)
    ours["tokenizer"] = {"root": "gguf", "path": str(GGUF.relative_to(ROOT))}
    ours["residue"] = residue(ours["cases"], theirs["cases"], changed)
    folder = pathlib.Path(out_dir) / "gemma3"
    folder.mkdir(parents=True)
    with open(folder / "golden.json", "w", encoding="utf-8") as f:
        json.dump(ours, f, ensure_ascii=False)
    print("[reference] gguf_spm_tokenizer residue against the hub file:",
          {k: v["strings"] for k, v in ours["residue"].items() if isinstance(v, dict)})
