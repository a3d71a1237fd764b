"""lm-eval's stock tasks over the local data: shared by the lm-eval reference generators.

`datasets.load_dataset` is redirected to rows read from assets/data (SLMQ_DATA_DIR overrides), in
the HF schema each task's YAML expects; everything else (task YAMLs, utils, samplers, metrics) is
the installed lm-eval, unchanged. HellaSwag comes in two forms: constructed raw-schema rows
(lm-eval's own process_docs runs on them) and the real validation items in llama.cpp's text
layout, already preprocessed, under a copy of hellaswag.yaml without process_docs.
"""
import json
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


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


def data_files():
    """The data files the loader reads (for run_generator's stamp)."""
    d = data_dir()
    files = [d / "arc" / f"ARC-{c}-{s}.jsonl" for c in ("Easy", "Challenge")
             for s in ("train", "validation", "test")]
    files += [d / "piqa" / "dev.jsonl", d / "piqa" / "dev-labels.lst",
              d / "gsm8k" / "train.jsonl", d / "gsm8k" / "test.jsonl",
              d / "wikitext2" / "wiki.test.raw", d / "hellaswag" / "hellaswag_val_full.txt",
              d / "mmlu" / "data" / "test", d / "mmlu" / "data" / "dev"]
    return [str(f) for f in files]


def offline_quiet():
    """No network, no progress bars, no per-request warnings in the generator logs."""
    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def task_manager():
    # Indexing only the task folders we use: the full index takes minutes.
    import lm_eval
    from lm_eval.tasks import TaskManager

    base = pathlib.Path(lm_eval.__file__).parent / "tasks"
    dirs = ["arc", "piqa", "hellaswag", "gsm8k", "wikitext", "mmlu/default"]
    return TaskManager(include_path=[str(base / d) for d in dirs], include_defaults=False)


def evaluate(lm, tm, tasks, num_fewshot, limit, **kwargs):
    """lm_eval.simple_evaluate on the local data. tasks: lm-eval task names, or
    ["hellaswag_llamacpp"] for the llama.cpp-layout items."""
    import datasets
    import lm_eval

    llamacpp = tasks == ["hellaswag_llamacpp"]
    datasets.load_dataset = make_loader("llamacpp" if llamacpp else "raw")
    if llamacpp:
        tasks = [hellaswag_llamacpp_config()]
    return lm_eval.simple_evaluate(model=lm, tasks=tasks, num_fewshot=num_fewshot, limit=limit,
                                   task_manager=tm, log_samples=True, **kwargs)
