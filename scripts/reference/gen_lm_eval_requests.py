"""lm-eval's own request strings and scores for our tasks, from the local data, without a model.

The PyPI `lm-eval` builds its stock Task objects (the shipped YAMLs and utils, unchanged); only
`datasets.load_dataset` is redirected to rows read from assets/data (SLMQ_DATA_DIR overrides), in
the HF schema each task expects. A fake LM answers every request with a synthetic value derived
from a hash of the request, so lm-eval's process_results, filters and aggregation run on known
inputs. Per task, <task>.json holds every request (arguments and the synthetic response), every
sample's metrics and the results lm-eval reports (tasks and groups).

Also written: python_random.json (CPython `random` test vectors) and hellaswag_preprocess.json
(lm-eval's hellaswag process_docs on constructed raw rows).

Subsets: first 50 docs of each multiple-choice task (ARC-Challenge 130, reaching a 5-choice item;
hellaswag: constructed raw rows and the real llama.cpp-layout items), ARC-Easy 3-shot (10 docs),
2 docs of every MMLU subject 5-shot, 101 per subject 0-shot (unequal subtask sizes) and 1 per
subject (stderr N/A), 3 WikiText pages, 5 GSM8K docs and all 1319.
"""
import hashlib
import json
import pathlib
import random

from _lm_eval_local import (constructed_hellaswag_rows, data_files, evaluate, hellaswag_llamacpp_config, mmlu_rows,
                            offline_quiet, piqa_rows, task_manager, wikitext_pages)

INPUT_PACKAGES = ("lm-eval", "datasets")

# (output name, lm-eval task names, num_fewshot, limit)
RUNS = [
    ("arc_easy", ["arc_easy"], 0, 50),
    ("arc_easy_3shot", ["arc_easy"], 3, 10),
    ("arc_challenge", ["arc_challenge"], 0, 130),  # doc 121 has 5 choices
    ("piqa", ["piqa"], 0, 50),
    ("mmlu_5shot", ["mmlu"], 5, 2),
    # 0-shot with 101 per subject (a superset of the first 2): subjects with 100 docs stay
    # smaller, so size weighting is exercised.
    ("mmlu_0shot_101", ["mmlu"], 0, 101),
    ("mmlu_0shot_1", ["mmlu"], 0, 1),  # one doc per subtask: stderr "N/A" up through the groups
    ("wikitext", ["wikitext"], 0, 3),
    ("gsm8k", ["gsm8k"], 5, 5),
    # Every test doc: the few-shot sampler's state runs through the whole split.
    ("gsm8k_full", ["gsm8k"], 5, None),
    ("hellaswag_raw", ["hellaswag"], 0, None),
    ("hellaswag_raw_2shot", ["hellaswag"], 2, None),
    ("hellaswag_llamacpp", ["hellaswag_llamacpp"], 0, 50),
]

def input_files():
    """run_generator's stamp: the task data."""
    return data_files()


def synthetic_ll(args):
    """A deterministic loglikelihood per request; coarse values make ties (argmax tie rules)."""
    h = int.from_bytes(hashlib.sha256("\x00".join(args).encode("utf-8")).digest()[:8], "little")
    if h % 3 == 0:
        return -float(h % 16) / 4.0
    return -float(h % 1_000_000_007) / 1e7


GSM8K_FORMS = [
    " The answer is {n}.\n#### {n}",
    " #### {c}.",
    " She pays ${c} in total.",
    " Nothing numeric here.",
    " -{n} and then 3.5 left",
    " #### {w}\n#### {n}",
    " So 12 + 30 = 42.\n#### 42",
    " ${c}.00",
]


def synthetic_generation(instance, i):
    gold = instance.doc["answer"].split("#### ")[-1].strip()
    n = gold.replace(",", "")
    c = f"{int(n):,}" if n.lstrip("-").isdigit() else n
    return GSM8K_FORMS[i % len(GSM8K_FORMS)].format(n=n, c=c, w=str(int(n) + 1) if n.lstrip("-").isdigit() else "0")


def make_fake_lm():
    from lm_eval.api.model import LM

    class FakeLM(LM):
        def loglikelihood(self, requests):
            return [(synthetic_ll(r.args), synthetic_ll(r.args) > -1.0) for r in requests]

        def loglikelihood_rolling(self, requests):
            return [synthetic_ll(r.args) * 1000.0 for r in requests]

        def generate_until(self, requests):
            return [synthetic_generation(r, r.doc_id) for r in requests]

    return FakeLM()


def run_one(tm, name, tasks, num_fewshot, limit):
    import lm_eval

    out = evaluate(make_fake_lm(), tm, tasks, num_fewshot, limit, bootstrap_iters=100000)
    if tasks == ["hellaswag_llamacpp"]:
        tasks = [hellaswag_llamacpp_config()]
    samples = {}
    for task_name, rows in out["samples"].items():
        samples[task_name] = [{
            "doc_id": s["doc_id"],
            "target": s["target"],
            "arguments": [list(a) if not isinstance(a, str) else [a] for a in s["arguments"]],
            "resps": s["resps"],
            "filtered_resps": s["filtered_resps"],
            "filter": s.get("filter"),
            "metrics": {m: s[m] for m in s["metrics"]},
        } for s in rows]
    return {"name": name, "tasks": tasks, "num_fewshot": num_fewshot, "limit": limit,
            "lm_eval_version": lm_eval.__version__ if hasattr(lm_eval, "__version__") else None,
            "results": out["results"], "groups": out.get("groups", {}),
            "n_samples": out.get("n-samples", {}), "samples": samples}


def python_random_vectors():
    seeds = [0, 1, 42, 1234, 2**32 + 5, -7, 2**63 - 1]
    out = []
    for seed in seeds:
        r = random.Random(seed)
        entry = {"seed": seed, "uint32": [r.getrandbits(32) for _ in range(10)]}
        r = random.Random(seed)
        entry["getrandbits"] = [[k, r.getrandbits(k)] for k in (0, 1, 5, 13, 31, 32, 33, 47, 64)]
        r = random.Random(seed)
        entry["random"] = [r.random() for _ in range(5)]
        r = random.Random(seed)
        entry["sample"] = [[n, k, r.sample(range(n), k)] for n, k in
                           ((7473, 5), (10, 3), (21, 5), (22, 5), (30, 6), (100, 6), (5, 5), (1, 1), (50, 0),
                            (2251, 25), (39905, 11))]
        r = random.Random(seed)
        shuffles = []
        for n in (0, 1, 2, 10, 57):
            x = list(range(n))
            r.shuffle(x)
            shuffles.append(x)
        entry["shuffle"] = shuffles
        out.append(entry)
    return out


def hellaswag_preprocess_cases():
    from lm_eval.tasks.hellaswag import utils

    val, train = constructed_hellaswag_rows()
    texts = ["  a [b] c  ", " [title] x", "a   b    c", "[x]", "no brackets", "multi [a]\n[b] line [c\nd]",
             "\u2003 em space\u3000", "a [title] b [title]", "x[y]z[", "p ]q[ r"]
    import datasets

    processed = utils.process_docs(datasets.Dataset.from_list(val + train))
    return {"preprocess": [[t, utils.preprocess(t)] for t in texts],
            "rows": [{"raw": raw, "query": p["query"], "choices": p["choices"], "gold": p["gold"]}
                     for raw, p in zip(val + train, processed)]}


def export_hf_layouts(root):
    """HF-schema JSONL written by `datasets` itself (Dataset.to_json), in the layouts our loaders
    accept, for the loader tests: the constructed raw hellaswag rows, one MMLU subject, PIQA
    validation and the WikiText pages."""
    import datasets

    def write(rows, rel):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_list(rows).to_json(str(path), lines=True)

    val, train = constructed_hellaswag_rows()
    write(val, "hellaswag/validation.jsonl")
    write(train, "hellaswag/train.jsonl")
    for split in ("test", "dev"):
        write(mmlu_rows("anatomy", split), f"mmlu/hf/anatomy/{split}.jsonl")
    write(piqa_rows(), "piqa/validation.jsonl")
    write(wikitext_pages(), "wikitext2/document_level/test.jsonl")


def encode_pair_cases():
    """lm-eval's TemplateLM._encode_pair with a one-token-per-character tokenizer, which turns
    the token split back into the (context, continuation) strings the model sees."""
    from types import SimpleNamespace

    from lm_eval.api.model import TemplateLM

    fake = SimpleNamespace(backend="causal", tok_encode=lambda s, **kw: [ord(c) for c in s])
    pairs = [("Question: x\nAnswer:", " A"), ("ctx ", "cont"), ("ctx\n\n", " B"), ("a\t \u3000", "x"),
             ("b\u00a0", " y"), ("c\u2028\u200b", "z"), ("   lead", " t"), ("end\x1c", "q"), ("x", "")]
    out = []
    for ctx, cont in pairs:
        c, k = TemplateLM._encode_pair(fake, ctx, cont)
        out.append([ctx, cont, "".join(map(chr, c)), "".join(map(chr, k))])
    return out


def wikitext_detokenized_pages():
    from lm_eval.tasks.wikitext import preprocess_wikitext

    return [preprocess_wikitext.wikitext_detokenizer(p) for p in wikitext_pages()]


def generate(out_dir):
    offline_quiet()
    out_dir = pathlib.Path(out_dir)
    (out_dir / "python_random.json").write_text(json.dumps(python_random_vectors()))
    (out_dir / "hellaswag_preprocess.json").write_text(json.dumps(hellaswag_preprocess_cases(), ensure_ascii=False))
    (out_dir / "encode_pair.json").write_text(json.dumps(encode_pair_cases()))
    (out_dir / "wikitext_detokenized.json").write_text(json.dumps(wikitext_detokenized_pages()))
    export_hf_layouts(out_dir / "hf_data")
    tm = task_manager()
    for name, tasks, k, limit in RUNS:
        result = run_one(tm, name, tasks, k, limit)
        (out_dir / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    import sys
    import time

    t0 = time.time()
    generate(pathlib.Path(sys.argv[1]))
    print(f"{time.time() - t0:.1f} s")
