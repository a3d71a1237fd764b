"""Quantization cost and result, slmquant against llm-compressor (the PyPI package `llmcompressor`),
same CPU, model, calibration windows, scheme and thread count.

Setup. llm-compressor pins compressed-tensors 0.19 while the project venv has 0.20, so it is
installed beside the venv, not into it (torch and transformers come from the venv; llmcompressor
0.14.0.1 accepts torch 2.10-2.14 and transformers 5.15-5.17):

  .venv/bin/pip install --no-deps --target /work/exp/llmc-pkgs llmcompressor==0.14.0.1 compressed-tensors==0.19.0

(loguru, pyyaml, numpy, requests, tqdm, datasets, accelerate, pydantic, psutil come from the venv;
its other requirements, auto-round, nvidia-ml-py and pillow, are not imported by the modifiers used
here.) Run the script with that folder first on the path:

  PYTHONPATH=/work/exp/llmc-pkgs .venv/bin/python scripts/bench/quant_vs_llm_compressor.py \
      [--methods smoothquant,gptq,awq] [--nsamples 64] [--seqlen 512] [--seed 0] [--calib-batch 8]
      [--ppl-windows 8] [--threads 2] [--alpha 0.8] [--json FILE] [--work-dir DIR]

What runs. The model is SmolLM2-135M-Instruct: the repo's Q4_1 GGUF, converted once with
`slmquant convert` to an HF folder in float32 (WORK/fp32); both sides start from that folder.
Per method, llm-compressor runs in a child process of this script (same interpreter): load the
folder with transformers (float32, CPU), time the `oneshot(...)` call alone, then save_pretrained
(compressed-tensors). slmquant runs as `slmquant quantize WORK/fp32 ... --out DIR`; its time is
its own report's (DIR/quantization.json `cost`): wall_seconds minus the load, the calibration
sampling (llm-compressor gets the windows already tokenized) and the error statistics (a report
llm-compressor does not compute); the process wall time is recorded too. Both outputs and the FP
folder are scored by one evaluator, `slmquant ppl` (GPTQ-style WikiText-2 test token perplexity
over the first --ppl-windows non-overlapping 512-token windows); if it cannot load a folder the
error is recorded and that method's two outputs are scored by a transformers port of the same
definition instead (--evaluator transformers forces it for everything).

| method | llm-compressor recipe | slmquant |
|---|---|---|
| smoothquant (W8A8) | SmoothQuantModifier(smoothing_strength=alpha) + QuantizationModifier(scheme="W8A8") | --method smoothquant --scheme w8a8 --smooth-variant llm_compressor --alpha alpha |
| gptq (W4A16 g64 sym, act-order) | GPTQModifier(config_groups: int4 symmetric group 64, actorder static) | --method gptq --scheme w4a16 --group-size 64 --act-order --static-groups |
| awq (W4A16 g64 sym) | AWQModifier(duo_scaling=False, n_grid=21) + QuantizationModifier(int4 symmetric group 64) | --method awq --scheme w4a16 --group-size 64 --n-grid 20 --no-awq-clip |

lm_head stays full precision on both sides (ignore=["lm_head"]; slmquant's default). slmquant
uses --flavour compressed_tensors for all three (the compressed-tensors quantizer formulas; for
symmetric GPTQ the gptq flavour gives the same codes anyway).

Matched exactly: the model weights (one fp32 folder), the thread count (OMP_NUM_THREADS,
torch.set_num_threads), the calibration token windows (below), the scheme (bits, symmetry, group
size, per-channel int8 weights + dynamic per-token int8 activations for W8A8), the quantizer
formulas, the GPTQ settings (block 128, damping 0.01 of mean diag(H), act-order with group
parameters from the weight before the updates = llm-compressor's actorder "static"), the
SmoothQuant scale formula (llm-compressor's: activation range of the norm output, 2*max|W|), the
sequences per forward (--calib-batch on both sides) and the perplexity evaluator.

Calibration windows: slmquant draws them itself with `--calib c4 --sampling random_documents`
(GPTQ's get_c4: Python random.seed(seed); per window, random.randint documents of
calibration/c4/c4_validation_2k.jsonl until one has >= seqlen tokens, then a window starting at
randint(0, len - seqlen - 1)), with CPython's generator reproduced bit for bit and the documents
encoded as HF tokenizer(text) does. This script draws the same windows with Python's own `random`
and the transformers tokenizer of the converted folder, gives them to llm-compressor as a
datasets.Dataset of input_ids + attention_mask (no shuffle, no truncation), and checks what it can
without a window dump from slmquant: the number of documents it tokenized (its report's
calibration.tokenized_documents) must equal ours, and the documents the windows come from
(the first --check-docs of them) must encode to the same ids with `slmquant tokenize`. Any
mismatch stops the run.

Not matched (differences of the algorithms, not of the setup; from reading llmcompressor 0.14.0.1):
- llm-compressor's default "independent" pipeline gives each modifier its own layer-by-layer pass:
  SmoothQuant's statistics on the FP model, then the quantization on the smoothed model, as
  slmquant does. The next layer's inputs: GPTQ, from the quantized layer on both sides;
  SmoothQuant and AWQ, from the smoothed/scaled full-precision layer in llm-compressor (weight
  quantization is disabled during its calibration) and from the layer before scaling in slmquant
  (llm-awq's order): equal up to float rounding.
- AWQ: llm-compressor has no clip search (slmquant's is switched off to match) and defaults to
  duo_scaling=True (s = mean|x|^r / mean|W|^(1-r); llm-awq's rule, which slmquant implements, is
  duo_scaling=False). Its ratio grid is k/(n_grid-1), k = 0..n_grid-1, llm-awq's and slmquant's
  k/n_grid, k = 0..n_grid-1: llm-compressor gets n_grid 21 so that its ratios are slmquant's 20 plus
  1.0 (one grid point, about 5% of the search, more work than slmquant). --awq-tool-defaults runs
  each tool as it comes instead: llm-compressor duo_scaling=True, n_grid 20; slmquant with its clip
  search. Both skip the v->o mapping under GQA (SmolLM2 has 3 KV heads for 9 query heads).
- GPTQ: llm-compressor falls back to RTN for a module whose Cholesky fails; slmquant multiplies
  the damping by 10 and retries (its report lists retries; none were needed on SmolLM2 so far).
- llm-compressor 0.14.0.1's AWQModifier pins CPU memory unconditionally, which fails without a
  GPU ("RuntimeError: Found no NVIDIA driver on your system"); the child process makes that pinning
  a no-op when no accelerator is available (recorded as `patches` in the JSON).
- Time: llm-compressor's oneshot also includes its own setup (applying the quantization config,
  tracing/splitting the model into layers, building the data loader); slmquant's figure has no
  model load, so both exclude loading the model and tokenizing the calibration text.

Checked on a tiny run (4 x 64 calibration tokens, 1 thread; the checkpoints compared tensor by
tensor): SmoothQuant W8A8, smoothed norm weights within 2e-6 relative and 1409 of 106M int8 codes
differing by one step; GPTQ, every group scale identical and layer 0's codes 99.7-99.97%
identical, later layers 75% (26% of all codes differ, also at 8 x 128 tokens) -- but two slmquant
runs that differ only in --calib-batch (1 vs 8, i.e. float summation order) differ in the same 26%
with the same per-layer pattern: GPTQ's column-by-column rounding amplifies float noise, so code
equality is not a usable check beyond layer 0; AWQ, 47 of the 60 norm scales (the same grid ratio)
and every up->down scale identical, 1.2% of the codes differing. Both evaluators (slmquant ppl,
transformers) give the same perplexities to 1e-4. Perplexity noise at such sizes is large: scaling
slmquant's W8A8 norm weights by (1 + 1e-6 N(0,1)) moved its 2-window perplexity by up to 0.22%,
and the two slmquant GPTQ runs above (8 x 128 tokens) scored 50.28 and 50.72 on 8 windows.

--resume reuses the checkpoints (and their timings) already in --work-dir that were made with the
same settings, so an interrupted run goes on where it stopped; the perplexities are recomputed.
"""
import argparse
import json
import os
import pathlib
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
GGUF = ROOT / "assets" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
METHODS = ["smoothquant", "gptq", "awq"]
SCHEMES = {"smoothquant": "W8A8", "gptq": "W4A16 g64 sym act-order", "awq": "W4A16 g64 sym"}
C4 = pathlib.Path("calibration") / "c4" / "c4_validation_2k.jsonl"
WIKI = pathlib.Path("wikitext2") / "wiki.test.raw"
INSTALL = ("install it beside the venv: .venv/bin/pip install --no-deps --target /work/exp/llmc-pkgs "
           "llmcompressor==0.14.0.1 compressed-tensors==0.19.0, and run with "
           "PYTHONPATH=/work/exp/llmc-pkgs")


def thread_env(threads):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")


def check_llmcompressor():
    """The llmcompressor and compressed_tensors versions, or SystemExit with one line."""
    try:
        import compressed_tensors
        import llmcompressor
    except Exception as e:  # any import failure is the same setup problem
        raise SystemExit(f"llmcompressor cannot be imported ({type(e).__name__}: {e}); {INSTALL}")
    return {"llmcompressor": llmcompressor.__version__, "compressed_tensors": compressed_tensors.__version__}


# ---- model and calibration windows ------------------------------------------------------------

def convert_model(binary, gguf, out):
    if (out / "config.json").exists():
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [binary, "convert", str(gguf), "--out", str(out), "--dtype", "float32"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip().splitlines()[-1:]}")


def c4_documents(data_dir):
    path = data_dir / C4
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def random_document_windows(docs, encode, nsamples, seqlen, seed):
    """GPTQ get_c4's windows: (rows of token ids, source document of each, documents tokenized)."""
    rng = random.Random(seed)  # the same stream as random.seed(seed) + random.randint
    cache = {}
    rows, sources = [], []
    for _ in range(nsamples):
        while True:
            i = rng.randint(0, len(docs) - 1)
            if i not in cache:
                cache[i] = encode(docs[i])
            if len(cache[i]) >= seqlen:
                break
        ids = cache[i]
        start = rng.randint(0, len(ids) - seqlen - 1)  # raises for len == seqlen, as get_c4 does
        rows.append(ids[start:start + seqlen])
        sources.append(i)
    return rows, sources, len(cache)


def check_tokenizer(binary, model_dir, docs, sources, encode, limit):
    """Documents (of those the windows come from) whose slmquant ids differ from ours."""
    checked, bad = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for i in list(dict.fromkeys(sources))[:limit]:
            path = pathlib.Path(tmp) / "doc.txt"
            path.write_text(docs[i], encoding="utf-8")
            proc = subprocess.run([binary, "tokenize", str(model_dir), "--file", str(path), "--json"],
                                  capture_output=True, text=True, check=True)
            if json.loads(proc.stdout)["ids"] != encode(docs[i]):
                bad.append(i)
            checked += 1
    return checked, bad


# ---- llm-compressor (child process) -----------------------------------------------------------

def llmc_recipe(spec):
    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
    from llmcompressor.modifiers.quantization import GPTQModifier, QuantizationModifier

    def w4_g64(actorder=None):
        args = dict(num_bits=4, type="int", symmetric=True, strategy="group", group_size=64)
        if actorder:
            args["actorder"] = actorder
        return {"group_0": QuantizationScheme(targets=["Linear"], weights=QuantizationArgs(**args))}

    method = spec["method"]
    if method == "smoothquant":
        from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier
        return [SmoothQuantModifier(smoothing_strength=spec["alpha"]),
                QuantizationModifier(targets=["Linear"], scheme="W8A8", ignore=["lm_head"])]
    if method == "gptq":
        return [GPTQModifier(config_groups=w4_g64("static"), ignore=["lm_head"], block_size=128,
                             dampening_frac=0.01)]
    if method == "awq":
        from llmcompressor.modifiers.transform.awq import AWQModifier
        # n_grid 21 -> ratios k/20, k = 0..20: slmquant's (llm-awq's) k/20, k = 0..19, plus 1.0.
        tool_defaults = spec["awq_tool_defaults"]
        return [AWQModifier(duo_scaling=tool_defaults, n_grid=20 if tool_defaults else 21),
                QuantizationModifier(config_groups=w4_g64(), ignore=["lm_head"])]
    raise ValueError(method)


def cpu_only_patches(torch):
    """Work around llm-compressor 0.14's accelerator assumptions on a machine without one.

    AWQModifier pins its cached layer inputs before the grid search
    (IntermediatesCache.pin_memory), which raises "Found no NVIDIA driver on your system" with a
    CUDA build of torch and no GPU. Pinning only speeds up host-to-device copies, so on a machine
    without an accelerator it is made a no-op; the computation is unchanged.
    """
    if torch.accelerator.is_available():
        return []
    from llmcompressor.pipelines.cache import IntermediatesCache

    IntermediatesCache.pin_memory = lambda self, *args, **kwargs: None
    return ["IntermediatesCache.pin_memory: no-op (no accelerator)"]


def llmc_worker(spec_path):
    """Child: load, oneshot (timed), save; writes spec['result'] as JSON."""
    spec = json.loads(pathlib.Path(spec_path).read_text())
    versions = check_llmcompressor()
    import torch
    import transformers
    from datasets import Dataset
    from llmcompressor import oneshot

    torch.set_num_threads(spec["threads"])
    patches = cpu_only_patches(torch)
    t0 = time.perf_counter()
    model = transformers.AutoModelForCausalLM.from_pretrained(spec["model"], dtype=torch.float32)
    tokenizer = transformers.AutoTokenizer.from_pretrained(spec["model"])
    load_s = time.perf_counter() - t0
    rows = spec["windows"]
    data = Dataset.from_dict({"input_ids": rows, "attention_mask": [[1] * len(r) for r in rows]})
    recipe = llmc_recipe(spec)
    t0 = time.perf_counter()
    model = oneshot(model=model, tokenizer=tokenizer, dataset=data, recipe=recipe,
                    num_calibration_samples=len(rows), max_seq_length=spec["seqlen"],
                    batch_size=spec["calib_batch"], shuffle_calibration_samples=False)
    oneshot_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.save_pretrained(spec["out"], save_compressed=True)
    tokenizer.save_pretrained(spec["out"])
    save_s = time.perf_counter() - t0
    pathlib.Path(spec["result"]).write_text(json.dumps({
        "load_s": load_s, "oneshot_s": oneshot_s, "save_s": save_s,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch_threads": torch.get_num_threads(), "recipe": [repr(m) for m in recipe], "patches": patches,
        "versions": dict(versions, torch=torch.__version__, transformers=transformers.__version__)}))


def run_llmc(method, args, model_dir, windows, out, log):
    spec_path = out.parent / f"{out.name}.spec.json"
    result_path = out.parent / f"{out.name}.result.json"
    spec = {"method": method, "model": str(model_dir), "windows": windows, "seqlen": args.seqlen,
            "calib_batch": args.calib_batch, "threads": args.threads, "alpha": args.alpha,
            "awq_tool_defaults": args.awq_tool_defaults, "out": str(out), "result": str(result_path)}
    if args.resume and result_path.exists() and spec_path.exists() and \
            json.loads(spec_path.read_text()) == spec:
        res = json.loads(result_path.read_text())
        return dict(res, quantize_s=res["oneshot_s"], reused=True)
    result_path.unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    spec_path.write_text(json.dumps(spec))
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run([sys.executable, __file__, "--worker", str(spec_path)],
                              env=thread_env(args.threads), stdout=f, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = [l for l in pathlib.Path(log).read_text(errors="replace").splitlines() if l.strip()][-1:]
        return {"error": f"exit {proc.returncode}: {tail[0] if tail else ''} (log {log})"}
    res = json.loads(result_path.read_text())
    res["process_s"] = wall
    result_path.write_text(json.dumps(res))
    return dict(res, quantize_s=res["oneshot_s"])


# ---- slmquant ---------------------------------------------------------------------------------

def slmquant_options(method, args):
    common = ["--flavour", "compressed_tensors", "--calib", "c4", "--sampling", "random_documents",
              "--nsamples", str(args.nsamples), "--seqlen", str(args.seqlen), "--seed", str(args.seed),
              "--calib-batch", str(args.calib_batch)]
    if method == "smoothquant":
        return ["--method", "smoothquant", "--scheme", "w8a8", "--smooth-variant", "llm_compressor",
                "--alpha", str(args.alpha)] + common
    if method == "gptq":
        return ["--method", "gptq", "--scheme", "w4a16", "--group-size", "64", "--act-order",
                "--static-groups", "--block-size", "128", "--percdamp", "0.01"] + common
    opts = ["--method", "awq", "--scheme", "w4a16", "--group-size", "64", "--n-grid", "20"] + common
    return opts if args.awq_tool_defaults else opts + ["--no-awq-clip"]


def run_slmquant(method, args, model_dir, out, log):
    cmd = [args.binary, "quantize", str(model_dir), "--dtype", "float32", "--device", "cpu",
           "--out", str(out)] + slmquant_options(method, args)
    env = dict(thread_env(args.threads), SLMQ_DATA_DIR=str(args.data_dir))
    cmd_path = out.parent / f"{out.name}.cmd.json"
    report_path = out / "quantization.json"
    reused = (args.resume and report_path.exists() and cmd_path.exists() and
              json.loads(cmd_path.read_text())["command"] == cmd)
    if reused:
        wall = json.loads(cmd_path.read_text())["process_s"]
    else:
        cmd_path.unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        with open(log, "w") as f:
            proc = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = [l for l in pathlib.Path(log).read_text(errors="replace").splitlines() if l.strip()][-1:]
            return {"error": f"exit {proc.returncode}: {tail[0] if tail else ''} (log {log})", "command": cmd}
        cmd_path.write_text(json.dumps({"command": cmd, "process_s": wall}))
    report = json.loads(report_path.read_text())
    cost = report["cost"]
    phases = cost["phase_seconds"]
    excluded = sum(phases.get(k, 0.0) for k in ("load", "calibration", "error_stats"))
    return {"command": cmd, "process_s": wall, "wall_seconds": cost["wall_seconds"],
            "quantize_s": cost["wall_seconds"] - excluded, "phase_seconds": phases,
            "peak_rss_bytes": cost.get("peak_rss_bytes"), "calibration": report["calibration"],
            "threads": report["environment"].get("cpu_threads"), "reused": reused}


# ---- perplexity -------------------------------------------------------------------------------

def ppl_slmquant(args, model_dir):
    cmd = [args.binary, "ppl", str(model_dir), "--dtype", "float32", "--device", "cpu", "--seqlen",
           str(args.ppl_seqlen), "--limit-windows", str(args.ppl_windows), "--json"]
    env = dict(thread_env(args.threads), SLMQ_DATA_DIR=str(args.data_dir))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit {proc.returncode}")
    r = json.loads(proc.stdout)["wiki_token_perplexity"]
    return {"ppl": r["ppl"], "windows": r["windows"], "seconds": r["seconds"], "evaluator": "slmquant"}


def wikitext_rows(data_dir):
    # HF's wikitext-2-raw-v1 rows: one per line, newline kept, blank lines as "".
    with open(data_dir / WIKI, encoding="utf-8", newline="") as f:
        return [row if row.strip() else "" for row in f]


def ppl_transformers(args, model_dir):
    """The same definition as `slmquant ppl`: exp(mean over windows of the window's mean NLL)."""
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    ids = tok("\n\n".join(wikitext_rows(args.data_dir)), return_tensors="pt")["input_ids"]
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    n = min(args.ppl_windows, ids.shape[1] // args.ppl_seqlen)
    nlls = []
    with torch.no_grad():
        for w in range(n):
            x = ids[:, w * args.ppl_seqlen:(w + 1) * args.ppl_seqlen]
            logits = model(x).logits.float()
            nlls.append(torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:]).item())
    ppl = float(torch.tensor(nlls).mean().exp())
    return {"ppl": ppl, "windows": n, "seconds": time.perf_counter() - t0, "evaluator": "transformers"}


def perplexity(args, model_dir, force_transformers=False):
    if args.evaluator == "transformers" or force_transformers:
        return ppl_transformers(args, model_dir)
    return ppl_slmquant(args, model_dir)


def score_pair(args, row):
    """ppl of both outputs of one method, by one evaluator."""
    outs = {side: row[side].get("out") for side in ("llm_compressor", "slmquant")}
    if any(o is None for o in outs.values()):
        for side, o in outs.items():
            if o is not None:
                row[side]["ppl"] = perplexity(args, o)
        return
    try:
        for side, o in outs.items():
            row[side]["ppl"] = perplexity(args, o)
    except RuntimeError as e:
        row["slmquant_ppl_error"] = str(e)
        print(f"  slmquant ppl failed ({e}); scoring both {row['method']} outputs with transformers",
              flush=True)
        for side, o in outs.items():
            row[side]["ppl"] = perplexity(args, o, force_transformers=True)


# ---- report -----------------------------------------------------------------------------------

def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def print_table(rows, fp_ppl):
    head = ["method", "scheme", "llm-compressor s", "slmquant s", "ratio", "ppl (llm-compressor)",
            "ppl (slmquant)", "ppl FP"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        lc, sq = r["llm_compressor"], r["slmquant"]
        lt, st = lc.get("quantize_s"), sq.get("quantize_s")
        ratio = f"{lt / st:.2f}x" if lt and st else "-"
        def secs(side, t):
            return fmt(t, ".1f") if t else ("error" if "error" in side else "-")

        cells = [r["method"], r["scheme"], secs(lc, lt), secs(sq, st),
                 ratio, fmt(lc.get("ppl", {}).get("ppl"), ".2f"), fmt(sq.get("ppl", {}).get("ppl"), ".2f"),
                 fmt(fp_ppl.get("ppl"), ".2f")]
        print("| " + " | ".join(cells) + " |")
    print("\nratio = llm-compressor s / slmquant s (llm-compressor: the oneshot call; slmquant: its "
          "report's wall time less load, calibration sampling and error statistics).")
    for r in rows:
        for side in ("llm_compressor", "slmquant"):
            if "error" in r[side]:
                print(f"{r['method']} {side}: {r[side]['error']}")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--gguf", default=str(GGUF), help="model to convert once to float32")
    p.add_argument("--model-dir", help="an HF float32 folder to use instead of converting --gguf")
    p.add_argument("--nsamples", type=int, default=64, help="calibration windows")
    p.add_argument("--seqlen", type=int, default=512, help="tokens per calibration window")
    p.add_argument("--seed", type=int, default=0, help="calibration sampling seed")
    p.add_argument("--calib-batch", type=int, default=8, help="sequences per forward, both sides")
    p.add_argument("--alpha", type=float, default=0.8, help="SmoothQuant migration strength")
    p.add_argument("--awq-tool-defaults", action="store_true",
                   help="AWQ as each tool defaults: llm-compressor duo_scaling=True, slmquant with its clip search")
    p.add_argument("--ppl-windows", type=int, default=8, help="first N WikiText-2 test windows")
    p.add_argument("--ppl-seqlen", type=int, default=512)
    p.add_argument("--evaluator", choices=["slmquant", "transformers"], default="slmquant")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--check-docs", type=int, default=8,
                   help="calibration source documents re-encoded by `slmquant tokenize` (0: none)")
    p.add_argument("--binary", default=str(ROOT / "build" / "slmquant"))
    p.add_argument("--data-dir", default=os.environ.get("SLMQ_DATA_DIR", str(ROOT / "assets" / "data")))
    p.add_argument("--work-dir", default=str(ROOT / "results" / "bench" / "quant_vs_llm_compressor"),
                   help="converted model, both sides' checkpoints and logs")
    p.add_argument("--resume", action="store_true",
                   help="reuse a checkpoint of WORK made with the same settings instead of quantizing again")
    p.add_argument("--skip-slmquant", action="store_true")
    p.add_argument("--skip-llm-compressor", action="store_true")
    p.add_argument("--json", help="also write the measurements here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args()


def main():
    args = parse_args()
    if args.worker:
        return llmc_worker(args.worker)
    os.environ.update(thread_env(args.threads))
    versions = {} if args.skip_llm_compressor else check_llmcompressor()
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown method(s) {sorted(unknown)}; known: {', '.join(METHODS)}")
    args.data_dir = pathlib.Path(args.data_dir).resolve()
    work = pathlib.Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    model_dir = pathlib.Path(args.model_dir).resolve() if args.model_dir else work / "fp32"
    if not args.model_dir:
        convert_model(args.binary, args.gguf, model_dir)

    import transformers
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)

    def encode(text):
        return tok(text)["input_ids"]

    docs = c4_documents(args.data_dir)
    t0 = time.perf_counter()
    windows, sources, tokenized = random_document_windows(docs, encode, args.nsamples, args.seqlen, args.seed)
    sampling_s = time.perf_counter() - t0
    checked, bad = check_tokenizer(args.binary, model_dir, docs, sources, encode, args.check_docs)
    if bad:
        raise SystemExit(f"slmquant tokenize and transformers disagree on c4 documents {bad}: "
                         "the two sides would not get the same windows")
    print(f"model {model_dir} (float32, cpu), {args.threads} threads; calibration: {len(windows)} x "
          f"{args.seqlen} c4 windows (random_documents, seed {args.seed}, {tokenized} documents tokenized, "
          f"{sampling_s:.1f} s), {checked} source documents re-encoded by slmquant: identical; "
          f"calib batch {args.calib_batch}; llm-compressor {versions or 'skipped'}", flush=True)

    t0 = time.perf_counter()
    fp_ppl = perplexity(args, model_dir)
    print(f"  FP ppl {fp_ppl['ppl']:.3f} ({fp_ppl['windows']} x {args.ppl_seqlen}, {time.perf_counter() - t0:.1f} s)",
          flush=True)
    rows = []
    for method in methods:
        row = {"method": method, "scheme": SCHEMES[method], "llm_compressor": {}, "slmquant": {}}
        if not args.skip_llm_compressor:
            out = work / f"llmc-{method}"
            res = run_llmc(method, args, model_dir, windows, out, work / f"llmc-{method}.log")
            if "error" not in res:
                res["out"] = str(out)
            row["llm_compressor"] = res
            print(f"  llm-compressor {method}: " + (res.get("error") or
                  f"oneshot {res['oneshot_s']:.1f} s (load {res['load_s']:.1f} s, save {res['save_s']:.1f} s, "
                  f"process {fmt(res.get('process_s'), '.1f')} s{', reused' if res.get('reused') else ''})"),
                  flush=True)
        if not args.skip_slmquant:
            out = work / f"slmquant-{method}"
            res = run_slmquant(method, args, model_dir, out, work / f"slmquant-{method}.log")
            if "error" not in res:
                res["out"] = str(out)
                if res["calibration"].get("tokenized_documents") != tokenized:
                    raise SystemExit(f"slmquant tokenized {res['calibration'].get('tokenized_documents')} "
                                     f"c4 documents for its windows, this script {tokenized}: not the same windows")
            row["slmquant"] = res
            print(f"  slmquant {method}: " + (res.get("error") or
                  f"quantize {res['quantize_s']:.1f} s (report wall {res['wall_seconds']:.1f} s, "
                  f"process {res['process_s']:.1f} s{', reused' if res['reused'] else ''})"), flush=True)
        score_pair(args, row)
        print(f"  ppl {method}: llm-compressor {fmt(row['llm_compressor'].get('ppl', {}).get('ppl'), '.3f')}, "
              f"slmquant {fmt(row['slmquant'].get('ppl', {}).get('ppl'), '.3f')}", flush=True)
        rows.append(row)
    print()
    print_table(rows, fp_ppl)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(
            {"model": str(model_dir), "threads": args.threads, "device": "cpu", "dtype": "float32",
             "calibration": {"source": "c4", "sampling": "random_documents", "nsamples": args.nsamples,
                             "seqlen": args.seqlen, "seed": args.seed, "batch": args.calib_batch,
                             "tokenized_documents": tokenized, "documents_checked": checked},
             "ppl": {"seqlen": args.ppl_seqlen, "windows": args.ppl_windows}, "alpha": args.alpha,
             "awq_tool_defaults": args.awq_tool_defaults, "versions": versions, "fp_ppl": fp_ppl,
             "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
