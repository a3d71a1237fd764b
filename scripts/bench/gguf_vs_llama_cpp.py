"""slmquant's GGUF export against llama.cpp, on the bundled SmolLM2-135M-Instruct (issue 20).

    scripts/bench/gguf_vs_llama_cpp.py [--windows 8] [--ctx 512] [--nsamples 8] [--method gptq|rtn] [--work DIR]

Steps (every process under `nice -n 10`):
  1. base_f32.gguf: llama.cpp's F32 dequantization of the bundled GGUF (`llama-quantize
     --allow-requantize ... F32`), the same values slmquant loads. NOTE: the bundled weights are
     themselves Q4_1 (a 4-bit grid), so "FP" here means their exact fp32 dequantization.
  2. GPTQ W4 g32 asymmetric (gptq flavour, C4 calibration, GPTQ's get_c4 sampler with seed 1:
     seed 0 draws a document of exactly 512 tokens, which get_c4 cannot window) with `slmquant quantize` into a
     compressed-tensors folder, then `slmquant convert` of that folder to gptq_w4g32.gguf: the
     codes become Q4_1 blocks (no re-rounding; fp16 scale/min).
  3. llama.cpp's own Q4_1 and Q4_K_M of base.gguf (`llama-quantize`).
  4. Perplexity and KL(base || model) on the same WikiText-2 test text (the rows joined with
     "\\n\\n" as slmquant's corpus, written to a file for llama.cpp), `--windows` windows of
     `--ctx` tokens, scored on the second half of each window as llama-perplexity does:
     llama.cpp's `llama-perplexity --kl-divergence` for every GGUF, and `slmquant ppl --baseline`
     (its KL statistics use the same positions) for the GPTQ folder and its exported GGUF.
Prints a Markdown table and writes WORK/results.json. llama.cpp comes from
scripts/bench/build_llama_bench.sh (PyPI llama-cpp-python's vendored source, cached).
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOLLM2 = ROOT / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf"


def run(cmd, **kw):
    cmd = ["nice", "-n", "10"] + [str(c) for c in cmd]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout + p.stderr, time.time() - t0


def wiki_text(path):
    """slmquant's corpus (data::wikitext_rows_from_raw + join_corpus_rows) as one string."""
    text = (ROOT / "assets/data/wikitext2/wiki.test.raw").read_text()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = [line if line.strip() else "" for line in text.splitlines(keepends=True)]
    path.write_text("\n\n".join(rows))


def llama_ppl(llama, model, text, args, kld_base, make_base=False):
    cmd = [llama / "bin/llama-perplexity", "-m", model, "-f", text, "-c", args.ctx,
           "--chunks", args.windows, "-t", args.threads, "-b", args.ctx]
    cmd += ["--kl-divergence-base", kld_base] + ([] if make_base else ["--kl-divergence"])
    out, seconds = run(cmd)
    res = {"seconds": round(seconds, 1)}
    if make_base:
        m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
        res["ppl"] = float(m.group(1))
        return res
    for key, pat in {"ppl": r"Mean PPL\(Q\)\s*:\s*([0-9.]+)", "ppl_base": r"Mean PPL\(base\)\s*:\s*([0-9.]+)",
                     "kl_mean": r"Mean\s+KLD:\s*([0-9.]+)", "same_top": r"Same top p:\s*([0-9.]+)"}.items():
        m = re.search(pat, out)
        res[key] = float(m.group(1)) if m else None
    if res["same_top"] is not None:
        res["same_top"] /= 100  # printed in percent
    return res


def slmq_ppl(binary, model, base, args):
    out, seconds = run([binary, "ppl", model, "--baseline", base, "--seqlen", args.ctx,
                        "--limit-windows", args.windows, "--json"])
    j = json.loads(out[out.index("{"):out.rindex("}") + 1])
    kl = j["kl_divergence"]
    stats = kl.get("stats", kl)
    return {"ppl": stats["ppl_test"]["value"], "ppl_base": stats["ppl_base"]["value"],
            "kl_mean": stats["kl_mean"]["value"], "same_top": stats["same_top_fraction"]["value"],
            "all_positions_ppl": j["wiki_token_perplexity"]["ppl"] if isinstance(
                j["wiki_token_perplexity"], dict) else j["wiki_token_perplexity"],
            "seconds": round(seconds, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--nsamples", type=int, default=8)
    ap.add_argument("--method", choices=["gptq", "rtn"], default="gptq",
                    help="rtn: no calibration (the measured table in docs/gguf_export.md)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default="/tmp/slmq_gguf_bench")
    ap.add_argument("--binary", default=str(ROOT / "build/slmquant"))
    args = ap.parse_args()
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    binary = pathlib.Path(args.binary)
    llama = pathlib.Path(subprocess.run([ROOT / "scripts/bench/build_llama_bench.sh"], check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])
    text = work / "wiki_test_joined.txt"
    wiki_text(text)

    steps = {}
    base = work / "base_f32.gguf"
    if not base.exists():
        # llama.cpp's own dequantization of the Q4_1 asset (the values slmquant loads).
        _, steps["convert_base_s"] = run([llama / "bin/llama-quantize", "--allow-requantize",
                                          SMOLLM2, base, "F32"])
    gptq_dir = work / f"{args.method}_w4g32_ct"
    if not gptq_dir.exists():
        calib = ["--calib", "c4", "--nsamples", args.nsamples, "--seqlen", "512", "--seed", "1"]
        _, steps["quantize_s"] = run(
            [binary, "quantize", SMOLLM2, "--method", args.method, "--scheme", "w4a16_asym",
             "--group-size", "32", "--flavour", "gptq", "--out", gptq_dir]
            + (calib if args.method == "gptq" else []))
    gptq = work / f"{args.method}_w4g32.gguf"
    if not gptq.exists():
        _, steps["gptq_export_s"] = run([binary, "convert", gptq_dir, "--out", gptq])
    quantized = {}
    for name, ftype in (("llama_q4_1", "Q4_1"), ("llama_q4_k_m", "Q4_K_M")):
        quantized[name] = work / f"{name}.gguf"
        if not quantized[name].exists():
            run([llama / "bin/llama-quantize", base, quantized[name], ftype])

    kld = work / "base.kld"
    rows = {"base (F32 of the Q4_1 asset)": {"llama.cpp": llama_ppl(llama, base, text, args, kld, True)}}
    rows[f"slmquant {args.method.upper()} W4 g32 asym -> Q4_1 (exported)"] = {
        "llama.cpp": llama_ppl(llama, gptq, text, args, kld),
        "slmquant (compressed-tensors folder)": slmq_ppl(binary, gptq_dir, base, args),
        "slmquant (exported GGUF)": slmq_ppl(binary, gptq, base, args)}
    for name, path in quantized.items():
        rows[f"llama.cpp {name[6:].upper()} of base"] = {
            "llama.cpp": llama_ppl(llama, path, text, args, kld)}
    settings = {"windows": args.windows, "ctx": args.ctx, "scored": "second half of each window",
                "method": args.method,
                "gptq": {"calib": "c4", "nsamples": args.nsamples, "seqlen": 512, "seed": 1,
                         "scheme": "w4a16_asym", "group_size": 32, "flavour": "gptq"},
                "llama_cpp": str(llama), "threads": args.threads, "steps_seconds": steps}
    (work / "results.json").write_text(json.dumps({"settings": settings, "rows": rows}, indent=1))
    print(f"| model | measured by | PPL | KL(base‖model) mean | same top | seconds |")
    print("|---|---|---|---|---|---|")
    for model, by in rows.items():
        for who, r in by.items():
            kl = "" if r.get("kl_mean") is None else f"{r['kl_mean']:.5f}"
            top = "" if r.get("same_top") is None else f"{r['same_top']:.4f}"
            print(f"| {model} | {who} | {r['ppl']:.4f} | {kl} | {top} | {r['seconds']} |")
    print(json.dumps(settings))


if __name__ == "__main__":
    main()
