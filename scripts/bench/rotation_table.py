"""Markdown table of scripts/bench/rotation_smollm2.sh's result files: Wiki token perplexity and
mean KL against the unquantized model per scheme and method, with quantization wall time and
peak RSS (and SpinQuant's seconds per Cayley step)."""
import json
import pathlib
import sys

SCHEMES = ["w8a8", "w4a8", "w4a8g32", "w4a16", "w4a4kv4"]
METHODS = ["rtn", "smoothquant", "gptq", "quarot", "spinquant"]


def main(folder="results/smollm2_rotation"):
    rows = {}
    for f in pathlib.Path(folder).glob("*.json"):
        j = json.loads(f.read_text())
        name = f.stem
        if j.get("status") != "ok" or "ppl" not in j:
            continue
        p = j["ppl"]
        ppl = p["wiki_token_perplexity"]["ppl"]
        kl = p.get("kl_divergence", {}).get("kl_mean", {}).get("value")
        cost = j.get("quant_cost", {})
        step = j.get("quant", {}).get("details", {}).get("training", {}).get("seconds_per_step")
        rows[name] = (ppl, kl, cost.get("wall_time_s"), cost.get("peak_memory_mib"), step)
    if "fp32" in rows:
        print(f"FP32: ppl {rows['fp32'][0]:.2f}\n")
    print("| scheme | " + " | ".join(METHODS) + " |")
    print("|---|" + "---|" * len(METHODS))
    for s in SCHEMES:
        cells = []
        for m in METHODS:
            r = rows.get(f"{s}_{m}")
            cells.append("—" if r is None or r[0] is None else
                         f"{r[0]:.2f} / {r[1]:.3f}" if r[1] is not None else f"{r[0]:.2f}")
        print(f"| {s} | " + " | ".join(cells) + " |")
    print("\ncost (wall s, peak RSS MiB, s per Cayley step):")
    for name, r in sorted(rows.items()):
        if name != "fp32" and r[2] is not None:
            print(f"  {name}: {r[2]:.0f} s, {r[3]:.0f} MiB" + (f", {r[4]:.1f} s/step" if r[4] else ""))


if __name__ == "__main__":
    main(*sys.argv[1:])
