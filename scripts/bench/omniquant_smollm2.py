"""OmniQuant on SmolLM2-135M-Instruct next to RTN, SmoothQuant and GPTQ at the same settings.

Every cell is one `slmquant run` (CPU, fp32, one thread by default) of the bundled
SmolLM2-135M-Instruct (Q4_1 GGUF dequantized), scored by the 'Wiki' token perplexity and the KL
divergence against the unquantized model on the same WikiText-2 test windows (--ppl-windows ×
--ppl-seqlen). The calibrated methods draw the same windows: C4 random documents, --nsamples ×
--seqlen, seed 2. Schemes (the same quantizer settings for every method; each method keeps its
reference's quantizer formulas):
  w4a16_g64   int4 asymmetric weights in groups of 64
  w3a16_g64   int3 asymmetric weights in groups of 64
  w4a8        int4 asymmetric weights per channel, int8 asymmetric per-token activations
  w8a8        int8 symmetric weights per channel, int8 asymmetric per-token activations
OmniQuant runs the official variant (LWC for weight-only, LWC + LET otherwise) at --epochs;
`--llmc` adds the LLMC variant for the schemes with activations. The table (Markdown) goes to
stdout and every result JSON stays in --out.

  .venv/bin/python scripts/bench/omniquant_smollm2.py [--schemes w4a8,w8a8] [--methods omniquant]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf"

SCHEMES = {
    "w4a16_g64": "scheme: w4a16_asym\n  weight: {group_size: 64}",
    "w3a16_g64": "scheme: w3a16_asym\n  weight: {group_size: 64}",
    "w4a8": "scheme: w4a8\n  weight: {symmetric: false, granularity: per_channel}\n"
            "  activation: {symmetric: false}",
    "w8a8": "scheme: w8a8\n  activation: {symmetric: false}",
}
METHODS = ["rtn", "smoothquant", "gptq", "omniquant"]


def method_block(method, scheme, args, variant="official"):
    calib = (f"  calibration: {{source: c4, sampling: random_documents, nsamples: {args.nsamples}, "
             f"seqlen: {args.seqlen}, seed: 2, data_dir: {ROOT / 'assets/data'}}}\n")
    body = f"  method: {method}\n  {SCHEMES[scheme]}\n"
    if method == "rtn":
        return body
    if method == "smoothquant":
        return body + "  smoothquant: {alpha: 0.5}\n" + calib
    if method == "gptq":  # act-order with static groups: the only GPTQ that beat RTN on SmolLM2
        return body + "  gptq: {act_order: true, static_groups: true}\n" + calib
    opts = f"flavour: {variant}, epochs: {args.epochs}"
    return body + f"  omniquant: {{{opts}}}\n" + calib


def run_cell(name, quant, args):
    out = pathlib.Path(args.out)
    result = out / f"{name}.json"
    if result.exists() and not args.force:
        return json.loads(result.read_text())
    config = out / f"{name}.yaml"
    config.write_text(
        f"name: {name}\nmodel: {{path: {MODEL}, device: cpu, dtype: float32}}\n"
        + (f"quant:\n{quant}" if quant else "")
        + f"ppl: {{seqlen: {args.ppl_seqlen}, limit_windows: {args.ppl_windows}, kl: "
        + ("true" if quant else "false") + f", data_dir: {ROOT / 'assets/data'}}}\n")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    t0 = time.time()
    done = subprocess.run([args.binary, "run", str(config), "--out", str(out)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    print(f"[bench] {name}: {time.time() - t0:.0f} s", file=sys.stderr)
    return json.loads(result.read_text())


def value(v):
    return v.get("value") if isinstance(v, dict) else v


def summary(r):
    """(ppl, KL mean, same-top fraction, quantize wall s, training wall s and CPU s per step)."""
    kl = r["ppl"].get("kl_divergence") or {}
    cost = r.get("quant_cost") or {}
    training = ((r.get("quant") or {}).get("details") or {}).get("training") or {}
    steps = training.get("optimizer_steps")
    per_step = lambda t: t / steps if steps and t else None
    return (r["ppl"]["wiki_token_perplexity"]["ppl"], value(kl.get("kl_mean")),
            value(kl.get("same_top_fraction")), cost.get("wall_time_s"),
            per_step((cost.get("phase_seconds") or {}).get("training")),
            per_step(training.get("cpu_seconds")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/slmquant"))
    ap.add_argument("--out", default=str(ROOT / "results/omniquant_smollm2"))
    ap.add_argument("--schemes", default=",".join(SCHEMES))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--llmc", action="store_true")
    ap.add_argument("--nsamples", type=int, default=32)
    ap.add_argument("--seqlen", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--ppl-seqlen", type=int, default=512)
    ap.add_argument("--ppl-windows", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    pathlib.Path(args.out).mkdir(parents=True, exist_ok=True)

    rows = []
    fp = run_cell("fp32", "", args)
    if fp:
        rows.append(("fp32", "-", fp))
    for scheme in args.schemes.split(","):
        # SmoothQuant smooths activation outliers: no cell for weight-only schemes.
        cells = [(m, "official") for m in args.methods.split(",")
                 if not (m == "smoothquant" and "a16" in scheme)]
        if args.llmc and "omniquant" in args.methods and "a16" not in scheme:
            cells.append(("omniquant", "llmc"))
        for method, variant in cells:
            name = f"{scheme}_{method}" + ("_llmc" if variant == "llmc" else "")
            r = run_cell(name, method_block(method, scheme, args, variant), args)
            if r:
                rows.append((scheme, name.removeprefix(scheme + "_"), r))

    fp_ppl = summary(fp)[0] if fp else None
    print("| scheme | method | Wiki ppl | vs FP | KL mean | same top | quantize s | "
          "train s/step (wall, CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    f = lambda v, spec: "-" if v is None else format(v, spec)
    for scheme, method, r in rows:
        ppl, kl, top, wall, step_wall, step_cpu = summary(r)
        rel = None if fp_ppl is None else 100 * (ppl / fp_ppl - 1)
        print(f"| {scheme} | {method} | {ppl:.3f} | {f(rel, '+.1f')}% | {f(kl, '.4f')} | "
              f"{f(top, '.3f')} | {f(wall, '.0f')} | {f(step_wall, '.3f')}, "
              f"{f(step_cpu, '.3f')} |")


if __name__ == "__main__":
    main()
