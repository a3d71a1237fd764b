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
import os
import pathlib
import random

INPUT_PACKAGES = ("lm-eval", "datasets")

ROOT = pathlib.Path(__file__).resolve().parents[2]

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


def data_dir():
    return pathlib.Path(os.environ.get("SLMQ_DATA_DIR", ROOT / "assets" / "data"))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def mmlu_rows(subject, split):
    import csv

    path = data_dir() / "mmlu" / "data" / split / f"{subject}_{split}.csv"
    with open(path, encoding="utf-8", newline="") as f:
        return [{"question": r["question"], "subject": subject,
                 "choices": [r[f"choice{i}"] for i in range(4)], "answer": int(r["answer"])}
                for r in csv.DictReader(f)]


def piqa_rows():
    rows = read_jsonl(data_dir() / "piqa" / "dev.jsonl")
    labels = (data_dir() / "piqa" / "dev-labels.lst").read_text().split()
    return [{"goal": r["goal"], "sol1": r["sol1"], "sol2": r["sol2"], "label": int(l)}
            for r, l in zip(rows, labels, strict=True)]


def wikitext_pages():
    # The document-level rebuild of lm-eval v0.3.0's datasets/wikitext script (spec section 7.1).
    with open(data_dir() / "wikitext2" / "wiki.test.raw", encoding="utf-8") as f:
        lines = f.read().split("\n")
    pages, current = [], []
    for line in lines:
        r = line.replace("= = =", "===").replace("= =", "==").strip()
        if r.startswith("= ") and r.strip().endswith(" ="):
            page = "\n".join(current)
            if page.strip():
                pages.append({"page": page})
            current = []
        current.append(line)
    pages.append({"page": "\n".join(current)})
    return pages


def hellaswag_llamacpp_rows():
    lines = (data_dir() / "hellaswag" / "hellaswag_val_full.txt").read_text(encoding="utf-8").split("\n")
    rows = []
    for i in range(0, len(lines) - 5, 6):
        rows.append({"query": lines[i], "choices": lines[i + 2:i + 6], "label": lines[i + 1]})
    return rows


def constructed_hellaswag_rows():
    """Raw-schema rows built to exercise every preprocessing rule (spec section 1)."""
    base = dict(source_id="x", split="val", split_type="indomain")
    specs = [
        ("Roof shingle removal", "A man is sitting on a roof.", "he",
         ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
          "is holding a rubik's cube.", "starts pulling up roofing on a roof."], "3"),
        ("Home and Garden", "[header] How to grow tomatoes [title] Pick a spot.", "then NASA lands",
         ["[step] Water  them.", " [substeps] Dig   a hole [title] now", "Plant    seeds. ", "x"], "0"),
        ("Sports", "  Leading space [title] x", "",
         ["a [b]c[d] e", "[only]", "  two  spaces  ", "tab\tand\nnewline [x\ny]"], "2"),
        ("Ünïcode", "Ça va [title] très bien", "éCOLE ÉTÉ",
         ["ends with [", "nested [a [b] c] d", "ǅungla", "\u00a0nbsp\u2003em\u3000"], "1"),
        ("Food", "Slice bread.", "the cook",
         ["spreads butter.", "eats it.", "drops it.", "leaves."], "1"),
    ]
    rows = []
    for ind, (label, ctx_a, ctx_b, endings, gold) in enumerate(specs):
        ctx = ctx_a + " " + ctx_b if ctx_b else ctx_a
        rows.append(dict(ind=ind, activity_label=label, ctx_a=ctx_a, ctx_b=ctx_b, ctx=ctx,
                         endings=endings, label=gold, **base))
    # Train rows for the k-shot test: the first equals eval row 4, so the sampler must drop it.
    train = [dict(rows[4], split="train")] + [
        dict(ind=100 + i, activity_label=f"Act {i}", ctx_a=f"Context {i}.", ctx_b=f"then {i}",
             ctx=f"Context {i}. then {i}", endings=[f"e{i}{j}" for j in range(4)],
             label=str(i % 4), **dict(base, split="train")) for i in range(6)]
    train[0]["split"] = "val"
    return rows, train


def hellaswag_llamacpp_config():
    """hellaswag.yaml without process_docs: the llama.cpp rows already hold query and choices."""
    return {"task": "hellaswag_llamacpp", "dataset_path": "Rowan/hellaswag", "dataset_name": None,
            "output_type": "multiple_choice", "training_split": "train", "validation_split": "validation",
            "test_split": None, "doc_to_text": "{{query}}", "doc_to_target": "{{label}}",
            "doc_to_choice": "choices",
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                            {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}],
            "metadata": {"version": 1.0}}


def make_loader(hellaswag_mode):
    import datasets

    def load_dataset(path=None, name=None, **kwargs):
        D = datasets.Dataset.from_list
        empty = D([])
        dd = datasets.DatasetDict
        if path == "allenai/ai2_arc":
            return dd({s: D(read_jsonl(data_dir() / "arc" / f"{name}-{s}.jsonl"))
                       for s in ("train", "validation", "test")})
        if path == "cais/mmlu":
            return dd({"test": D(mmlu_rows(name, "test")), "dev": D(mmlu_rows(name, "dev"))})
        if path == "baber/piqa":
            return dd({"train": empty, "validation": D(piqa_rows())})
        if path == "openai/gsm8k":
            return dd({s: D(read_jsonl(data_dir() / "gsm8k" / f"{s}.jsonl")) for s in ("train", "test")})
        if path == "EleutherAI/wikitext_document_level":
            return dd({"train": empty, "validation": empty, "test": D(wikitext_pages())})
        if path == "Rowan/hellaswag":
            if hellaswag_mode == "llamacpp":
                return dd({"train": empty, "validation": D(hellaswag_llamacpp_rows())})
            val, train = constructed_hellaswag_rows()
            return dd({"train": D(train), "validation": D(val)})
        raise RuntimeError(f"no local data for {path}/{name}")

    return load_dataset


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


def task_manager():
    # Indexing only the task folders we use: the full index takes minutes.
    import lm_eval
    from lm_eval.tasks import TaskManager

    base = pathlib.Path(lm_eval.__file__).parent / "tasks"
    dirs = ["arc", "piqa", "hellaswag", "gsm8k", "wikitext", "mmlu/default"]
    return TaskManager(include_path=[str(base / d) for d in dirs], include_defaults=False)


def run_one(tm, name, tasks, num_fewshot, limit):
    import datasets
    import lm_eval

    datasets.load_dataset = make_loader("llamacpp" if name == "hellaswag_llamacpp" else "raw")
    if tasks == ["hellaswag_llamacpp"]:
        tasks = [hellaswag_llamacpp_config()]
    out = lm_eval.simple_evaluate(model=make_fake_lm(), tasks=tasks, num_fewshot=num_fewshot,
                                  limit=limit, task_manager=tm, log_samples=True,
                                  bootstrap_iters=100000)
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
    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
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
