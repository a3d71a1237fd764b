#!/usr/bin/env python3
"""slmquant against llama.cpp's llama-bench and transformers, same weights, same machine, paired.

Every configuration starts from the same weights, the bundled GGUF (dequantized to float32 by
each tool): llama.cpp runs F32, Q8_0 and Q4_0 files made from it by its own llama-quantize;
slmquant runs it in fp32 and RTN-quantized to W8A8, W4A8, W8A16 and W4A16 by `slmquant bench
--scheme` itself, onto the integer kernels (lm_head and the embedding table quantized as well, as
llama.cpp quantizes its output and token_embd tensors; a tied model keeps one copy of them; the
reported size is the packed bytes, while peak memory includes the float weights read at load);
transformers runs it in fp32. Tests are llama-bench's:
pp<P> = prompt of P random tokens from an empty context (prefill tokens/s), tg<N> = N tokens
generated one by one from an (almost) empty context (decode tokens/s, slmquant: after a
one-token prompt). Each round runs every configuration once at each thread count, in a rotated
order, so load from other processes on a shared machine hits all alike; ratios are formed within
a round and reported as median [min, max] over the rounds.

llama.cpp is not a dependency of slmquant: build_llama_bench.sh builds llama-bench from PyPI's
llama-cpp-python source distribution into ~/.cache/slmquant/llama.cpp.

  .venv/bin/python scripts/bench/side_by_side.py [--threads 1,2] [--pp 512] [--tg 128]
      [--rounds 3] [--reps 3] [--out results/side_by_side]
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = pathlib.Path(os.environ.get("SLMQ_BENCH_CACHE", pathlib.Path.home() / ".cache/slmquant"))

QEMB = ["--quantize-lm-head", "--quantize-embedding"]
SLMQ_SCHEMES = {  # name -> `bench` quantize options (None: the float32 model as loaded)
    "slmquant fp32": None,
    "slmquant W8A8": ["--scheme", "w8a8"] + QEMB,
    "slmquant W4A8 g64": ["--scheme", "w4a8", "--group-size", "64"] + QEMB,
    "slmquant W8A16": ["--scheme", "w8a16"] + QEMB,
    "slmquant W4A16 g64": ["--scheme", "w4a16", "--group-size", "64"] + QEMB,
}
LLAMA_TYPES = ["F32", "Q8_0", "Q4_0"]
# (ours, theirs, what the goal asks): decode and prefill ratios reported for each.
PAIRS = [
    ("slmquant W8A8", "llama.cpp Q8_0", ">= 1 (goal: W8 >= Q8_0)"),
    ("slmquant W8A16", "llama.cpp Q8_0", "(A16 variant)"),
    ("slmquant W4A8 g64", "llama.cpp Q4_0", ">= 1 (goal: W4 >= Q4_0)"),
    ("slmquant W4A16 g64", "llama.cpp Q4_0", "(A16 variant)"),
    ("slmquant fp32", "llama.cpp F32", ""),
    ("slmquant fp32", "transformers fp32", ">= 1.5 decode (goal)"),
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, env=None, **kw):
    log("$", " ".join(map(str, cmd)))
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, **kw)


def llama_build(version):
    out = run(["bash", str(HERE / "build_llama_bench.sh"), "--jobs", str(os.cpu_count())] +
              (["--version", version] if version else []))
    return pathlib.Path(out.stdout.strip().splitlines()[-1]) / "bin"


def llama_files(bin_dir, gguf):
    models = CACHE / "models"
    models.mkdir(parents=True, exist_ok=True)
    files = {}
    for t in LLAMA_TYPES:
        f = models / f"{gguf.stem}-{t}.gguf"
        if not f.exists():
            run([bin_dir / "llama-quantize", "--allow-requantize", gguf, f, t])
        files[t] = f
    return files


def llama_bench(bin_dir, model, threads, pp, tg, reps):
    """{'pp': (mean, sd), 'tg': (mean, sd)} from llama-bench's JSON."""
    r = run([bin_dir / "llama-bench", "-m", model, "-p", str(pp), "-n", str(tg), "-t", str(threads),
             "-r", str(reps), "-o", "json"])
    out = {}
    for row in json.loads(r.stdout):
        key = "pp" if row["n_prompt"] > 0 else "tg"
        out[key] = (row["avg_ts"], row["stddev_ts"])
        out["build"] = f"{row.get('build_commit', '?')} ({row.get('build_number', '?')})"
    return out


def slmquant_bench(binary, model, opts, threads, pp, tg, reps, tmp):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = {}
    for key, p, n in (("pp", pp, 2), ("tg", 1, tg + 1)):
        j = tmp / f"slmq-{key}.json"
        run([binary, "bench", model, "--pp", str(p), "--tg", str(n), "--reps", str(reps),
             "--threads", str(threads), "--json", j] + (opts or []), env=env)
        prof = json.loads(j.read_text())["runs"][0]
        if key == "pp":
            out["pp"] = (prof["prefill_tokens_per_s"], prof["prefill_tokens_per_s_stddev"])
        else:
            out["tg"] = (prof["decode_tokens_per_s"], prof["decode_tokens_per_s_stddev"])
        out["size_mib"] = prof["model_size_mib"]
        out["peak_mib"] = prof["peak_memory_mib"]
    return out


def transformers_bench(gguf, threads, pp, tg, reps):
    code = r'''
import json, statistics, sys, time, torch
from transformers import AutoModelForCausalLM
path, name, threads, pp, tg, reps = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
torch.set_num_threads(threads)
m = AutoModelForCausalLM.from_pretrained(path, gguf_file=name, dtype=torch.float32).eval()
g = torch.Generator().manual_seed(0)
prompt = torch.randint(0, m.config.vocab_size, (1, pp), generator=g)
one = prompt[:, :1]
pps, tgs = [], []
with torch.inference_mode():
    m(prompt)  # warm-up
    m.generate(one, max_new_tokens=8, min_new_tokens=8, do_sample=False)
    for _ in range(reps):
        t = time.perf_counter(); m(prompt); pps.append(pp / (time.perf_counter() - t))
        # tg: as slmquant's, the decode steps after the first token (which the prompt yields).
        t0 = time.perf_counter()
        m.generate(one, max_new_tokens=1, min_new_tokens=1, do_sample=False)
        t1 = time.perf_counter()
        m.generate(one, max_new_tokens=tg + 1, min_new_tokens=tg + 1, do_sample=False)
        t2 = time.perf_counter()
        tgs.append(tg / ((t2 - t1) - (t1 - t0)))
sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
print(json.dumps({"pp": [statistics.mean(pps), sd(pps)], "tg": [statistics.mean(tgs), sd(tgs)]}))
'''
    r = run([sys.executable, "-c", code, str(gguf.parent), gguf.name, str(threads), str(pp), str(tg),
             str(reps)], env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    return {k: tuple(v) for k, v in json.loads(r.stdout.strip().splitlines()[-1]).items()}


def spread(values):
    return statistics.median(values), min(values), max(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gguf", default=str(ROOT / "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--binary", default=str(ROOT / "build/slmquant"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--pp", type=int, default=512)
    ap.add_argument("--tg", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3, help="repetitions inside each tool's run")
    ap.add_argument("--llama-version", default="", help="llama-cpp-python version (default: newest)")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--only", default="", help="comma list of configuration names to run")
    ap.add_argument("--out", default=str(ROOT / "results/side_by_side"))
    a = ap.parse_args()

    gguf = pathlib.Path(a.gguf).resolve()
    out_dir = pathlib.Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    bin_dir = llama_build(a.llama_version)
    version = run([bin_dir / "llama-bench", "--version"]).stderr.strip().splitlines()
    sdist = sorted((CACHE / "llama.cpp").glob("llama_cpp_python-*.tar.gz"))
    files = llama_files(bin_dir, gguf)
    configs = {}
    for name, opts in SLMQ_SCHEMES.items():
        configs[name] = lambda t, o=opts: slmquant_bench(a.binary, gguf, o, t, a.pp, a.tg, a.reps,
                                                         out_dir)
    for t_name, f in files.items():
        configs[f"llama.cpp {t_name}"] = lambda t, f=f: llama_bench(bin_dir, f, t, a.pp, a.tg, a.reps)
    if not a.skip_transformers:
        configs["transformers fp32"] = lambda t: transformers_bench(gguf, t, a.pp, a.tg, a.reps)
    if a.only:
        keep = set(a.only.split(","))
        configs = {k: v for k, v in configs.items() if k in keep}

    threads = [int(t) for t in a.threads.split(",")]
    results = {t: {name: [] for name in configs} for t in threads}  # per round
    names = list(configs)
    for rnd in range(a.rounds):
        for t in threads:
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            for name in order:
                start = time.time()
                results[t][name].append(configs[name](t))
                log(f"round {rnd + 1} threads {t} {name}: {results[t][name][-1]} "
                    f"({time.time() - start:.0f} s)")
        (out_dir / "raw.json").write_text(json.dumps(
            {str(t): r for t, r in results.items()}, indent=1, default=str))

    md = [f"# slmquant vs llama.cpp vs transformers: pp{a.pp} / tg{a.tg}", "",
          f"- machine: {os.uname().nodename} {os.uname().machine}, {os.cpu_count()} cores; "
          f"load average at the end {os.getloadavg()[0]:.1f}",
          f"- llama.cpp: {' '.join(version)} from {sdist[-1].name if sdist else '?'}",
          f"- weights: {gguf.name} (every configuration from it); {a.rounds} rounds x {a.reps} "
          "repetitions inside each run", ""]
    for t in threads:
        md += [f"## {t} thread{'s' if t > 1 else ''}", "",
               "| configuration | pp t/s (median of rounds) | tg t/s (median of rounds) | rounds |",
               "|---|---:|---:|---:|"]
        for name in names:
            rs = results[t][name]
            pp = spread([r["pp"][0] for r in rs])
            tg = spread([r["tg"][0] for r in rs])
            md.append(f"| {name} | {pp[0]:.1f} [{pp[1]:.1f}, {pp[2]:.1f}] | "
                      f"{tg[0]:.2f} [{tg[1]:.2f}, {tg[2]:.2f}] | {len(rs)} |")
        md += ["", "| ratio (paired per round) | prefill median [min, max] | decode median [min, max] | goal |",
               "|---|---:|---:|---|"]
        for ours, theirs, goal in PAIRS:
            if ours not in results[t] or theirs not in results[t]:
                continue
            pairs = list(zip(results[t][ours], results[t][theirs]))
            pp = spread([o["pp"][0] / x["pp"][0] for o, x in pairs])
            tg = spread([o["tg"][0] / x["tg"][0] for o, x in pairs])
            md.append(f"| {ours} / {theirs} | {pp[0]:.2f} [{pp[1]:.2f}, {pp[2]:.2f}] | "
                      f"{tg[0]:.2f} [{tg[1]:.2f}, {tg[2]:.2f}] | {goal} |")
        md.append("")
    text = "\n".join(md) + "\n"
    (out_dir / "side_by_side.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
