"""Evaluation speed, slmquant against lm-evaluation-harness (HF backend), same machine, model,
items, dtype (float32) and thread count.

lm-eval (the PyPI package, `HFLM`) runs in this interpreter on the local data, as
scripts/reference/gen_lm_eval_model.py runs it (stock task YAMLs; only datasets.load_dataset is
redirected to assets/data; HellaSwag is the llama.cpp-layout items, as slmquant reads them by
default). The model is loaded once and each task is timed separately. slmquant runs one process per
task:
  build/slmquant eval MODEL --tasks T [--num-fewshot N] [--limit L] --dtype float32 --device D --out DIR
and its DIR/results.json gives the model load time (model.load_seconds), the task's evaluation time
(tasks.T.wall_seconds; else the process wall time minus the load) and lm-eval-style results, which
are compared with lm-eval's (every numeric non-stderr metric within 1e-4, perplexities relative).

  .venv/bin/python scripts/bench/eval_vs_lm_eval.py MODEL [--tasks arc_easy,piqa,...] [--limit 50]
      [--num-fewshot N] [--threads 2] [--device cpu|cuda] [--batch-size 8|auto] [--json FILE]
MODEL: an HF folder or a .gguf file (lm-eval loads it through transformers' GGUF support,
dequantized to float32; slmquant loads the file itself). Both sides get the same thread count
(OMP_NUM_THREADS / torch.set_num_threads). lm-eval's batch size defaults to 8 on CPU (its "auto"
probes a batch of max_length-long rows, minutes on a CPU) and "auto" on CUDA.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
TASKS = ["arc_easy", "arc_challenge", "piqa", "hellaswag", "mmlu", "wikitext", "gsm8k"]


def lm_eval_tasks(task):
    return ["hellaswag_llamacpp"] if task == "hellaswag" else [task]


def load_lm_eval_model(model, device, batch_size):
    from lm_eval.models.huggingface import HFLM

    class Counting(HFLM):
        """HFLM counting the requests it answers and the time spent answering them."""
        requests = 0
        model_seconds = 0.0

        def _count(self, method, requests, *args):
            t0 = time.perf_counter()
            out = method(requests, *args)
            self.model_seconds += time.perf_counter() - t0
            self.requests += len(requests)
            return out

        def loglikelihood(self, requests, disable_tqdm=False):
            return self._count(super().loglikelihood, requests, disable_tqdm)

        def loglikelihood_rolling(self, requests, disable_tqdm=False):
            return self._count(super().loglikelihood_rolling, requests, disable_tqdm)

        def generate_until(self, requests, disable_tqdm=False):
            return self._count(super().generate_until, requests, disable_tqdm)

    path = pathlib.Path(model)
    kwargs = dict(dtype="float32", device=device, batch_size=batch_size)
    if path.suffix == ".gguf":
        lm = Counting(pretrained=str(path.parent), gguf_file=path.name, **kwargs)
        if "smollm2" in path.name.lower():
            from gen_lm_eval_model import original_smollm2_tokenizer
            original_smollm2_tokenizer(lm)  # what the golden files use: see there
        return lm
    return Counting(pretrained=str(path), **kwargs)


def run_lm_eval(lm, tm, task, num_fewshot, limit):
    from _lm_eval_local import evaluate

    lm.requests, lm.model_seconds = 0, 0.0
    t0 = time.perf_counter()
    out = evaluate(lm, tm, lm_eval_tasks(task), num_fewshot, limit, bootstrap_iters=0)
    wall = time.perf_counter() - t0
    results = out["results"]
    if task == "hellaswag":
        results = {"hellaswag": results["hellaswag_llamacpp"]}
    items = sum(v["effective"] for v in out["n-samples"].values())
    return {"wall_s": wall, "model_s": lm.model_seconds, "requests": lm.requests, "items": items,
            "results": results}


def run_slmquant(binary, model, task, num_fewshot, limit, device, threads):
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "eval", model, "--tasks", task, "--dtype", "float32", "--device", device, "--out", out]
        if num_fewshot is not None:
            cmd += ["--num-fewshot", str(num_fewshot)]
        if limit is not None:
            cmd += ["--limit", str(limit)]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        doc = json.loads((pathlib.Path(out) / "results.json").read_text())
    load = doc.get("model", {}).get("load_seconds")
    detail = doc.get("tasks", {}).get(task, {})
    eval_s = detail.get("wall_seconds", wall - (load or 0.0))
    return {"process_s": wall, "load_s": load, "wall_s": eval_s, "requests": detail.get("requests"),
            "results": doc.get("results", {})}


def compare(reference, ours, tol=1e-4):
    """(agree, max difference) over lm-eval's numeric non-stderr metrics of every result entry."""
    worst, agree = 0.0, True
    for name, metrics in reference.items():
        for key, want in metrics.items():
            if "," not in key or "_stderr" in key or not isinstance(want, (int, float)):
                continue
            got = ours.get(name, {}).get(key)
            if not isinstance(got, (int, float)):
                return False, float("inf")
            diff = abs(got - want)
            bound = tol * abs(want) if "perplexity" in key else tol
            agree &= diff <= bound
            worst = max(worst, diff / abs(want) if "perplexity" in key and want else diff)
    return agree, worst


def rate(requests, seconds):
    return f"{requests / seconds:.1f}" if requests and seconds else "-"


def print_table(rows):
    head = ["task", "items", "requests", "lm-eval s", "slmquant s", "ratio", "lm-eval req/s",
            "slmquant req/s", "agree"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        le, sq = r["lm_eval"], r.get("slmquant")
        ratio = f"{le['wall_s'] / sq['wall_s']:.2f}x" if sq and sq["wall_s"] else "-"
        agree = "-" if not sq else ("yes" if sq["agree"] else f"NO ({sq['max_diff']:.2g})")
        cells = [r["task"], str(le["items"]), str(le["requests"]), f"{le['wall_s']:.1f}",
                 f"{sq['wall_s']:.1f}" if sq else "-", ratio, rate(le["requests"], le["wall_s"]),
                 rate(sq["requests"] or le["requests"], sq["wall_s"]) if sq else "-", agree]
        print("| " + " | ".join(cells) + " |")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--limit", type=int, default=50, help="docs per task (per subject for MMLU); 0 = all")
    p.add_argument("--num-fewshot", type=int, default=None, help="default: each task's")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--batch-size", default=None, help="lm-eval's; default 8 on CPU, auto on CUDA")
    p.add_argument("--binary", default=str(ROOT / "build" / "slmquant"))
    p.add_argument("--skip-slmquant", action="store_true", help="time lm-eval only")
    p.add_argument("--json", help="also write the measurements here")
    return p.parse_args()


def main():
    args = parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(ROOT / "scripts" / "reference"))
    from _lm_eval_local import offline_quiet, task_manager

    offline_quiet()
    import torch

    torch.set_num_threads(args.threads)
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise SystemExit(f"unknown task(s) {sorted(unknown)}; known: {', '.join(TASKS)}")
    limit = args.limit or None
    batch = args.batch_size or ("auto" if args.device == "cuda" else "8")
    t0 = time.perf_counter()
    lm = load_lm_eval_model(args.model, args.device, int(batch) if batch.isdigit() else batch)
    lm_load = time.perf_counter() - t0
    tm = task_manager()
    print(f"model {args.model}, float32, device {args.device}, {args.threads} threads, "
          f"lm-eval batch size {batch}, limit {limit}, lm-eval load {lm_load:.1f} s", flush=True)
    rows = []
    for task in tasks:
        row = {"task": task, "lm_eval": run_lm_eval(lm, tm, task, args.num_fewshot, limit)}
        print(f"  lm-eval {task}: {row['lm_eval']['wall_s']:.1f} s "
              f"({row['lm_eval']['model_s']:.1f} s in the model), {row['lm_eval']['requests']} requests",
              flush=True)
        if not args.skip_slmquant:
            sq = run_slmquant(args.binary, args.model, task, args.num_fewshot, limit, args.device, args.threads)
            sq["agree"], sq["max_diff"] = compare(row["lm_eval"]["results"], sq["results"])
            print(f"  slmquant {task}: {sq['wall_s']:.1f} s (load {sq['load_s']} s)", flush=True)
            row["slmquant"] = sq
        rows.append(row)
    print_table(rows)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"model": args.model, "device": args.device, "threads": args.threads, "lm_eval_batch_size": batch,
             "limit": limit, "num_fewshot": args.num_fewshot, "lm_eval_load_s": lm_load, "rows": rows},
            indent=1, default=str))


if __name__ == "__main__":
    main()
