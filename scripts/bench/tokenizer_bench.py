"""Encode throughput: slmquant's C++ tokenizer against HF tokenizers (Rust, via Python).

Both sides encode the same file one line per call (lines keep their "\\n"; add_special_tokens
on), single-threaded: HF with TOKENIZERS_PARALLELISM=false and RAYON_NUM_THREADS=1, measured both
as a Python loop of `encode(line)` and as one `encode_batch(lines)`. Each measurement is one
warm-up pass (which also fills the BPE caches) and then --repeat timed passes; we report the best
and the median pass in MB/s and the ratio C++ / HF. Runs alternate between the two sides so that
load from other processes hits both alike. Token counts must agree.

  .venv/bin/python scripts/bench/tokenizer_bench.py [--tokenizers qwen3 llama3 gemma3] [--repeat 5]
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import time

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
import tokenizers  # noqa: E402  (after the environment is set)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def hf_passes(tok, lines, repeat, batch):
    def one():
        t0 = time.perf_counter()
        if batch:
            n = sum(len(e.ids) for e in tok.encode_batch(lines))
        else:
            n = sum(len(tok.encode(line).ids) for line in lines)
        return time.perf_counter() - t0, n
    _, tokens = one()
    return [one()[0] for _ in range(repeat)], tokens


def cpp_pass(binary, tokenizer_dir, text_file):
    out = subprocess.run([str(binary), "tokenize", str(tokenizer_dir), "--file", str(text_file),
                          "--repeat", "1"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["seconds"][0], r["tokens"]


def summary(size, seconds):
    return {"best_mb_s": size / min(seconds) / 1e6, "median_mb_s": size / statistics.median(seconds) / 1e6,
            "seconds": seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizers", nargs="+", default=["qwen3", "llama3", "gemma3"])
    ap.add_argument("--file", default=str(ROOT / "assets/data/wikitext2/wiki.test.raw"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--binary", default=str(ROOT / "build/slmquant"))
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    text = pathlib.Path(args.file).read_text(encoding="utf-8")
    size = len(text.encode("utf-8"))
    lines = text.splitlines(keepends=True)
    results = {"file": args.file, "bytes": size, "lines": len(lines), "repeat": args.repeat,
               "unit": "one encode call per line, add_special_tokens=True, 1 thread",
               "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                           "load_avg_at_start": os.getloadavg()},
               "tokenizers_version": tokenizers.__version__, "results": {}}
    for name in args.tokenizers:
        folder = ROOT / "assets/data/tokenizers" / name
        tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        hf_loop, hf_batch, cpp = [], [], []
        _, cpp_tokens = cpp_pass(args.binary, folder, args.file)  # warm-up run of the binary
        hf_tokens = None
        for _ in range(args.repeat):
            loop_s, hf_tokens = hf_passes(tok, lines, 1, batch=False)
            hf_loop += loop_s
            batch_s, _ = hf_passes(tok, lines, 1, batch=True)
            hf_batch += batch_s
            # The binary warms up inside (one untimed pass before the timed one).
            seconds, cpp_tokens = cpp_pass(args.binary, folder, args.file)
            cpp.append(seconds)
        r = {"hf_loop": summary(size, hf_loop), "hf_batch": summary(size, hf_batch),
             "cpp": summary(size, cpp), "tokens_hf": hf_tokens, "tokens_cpp": cpp_tokens}
        r["ratio_vs_hf_loop_median"] = r["cpp"]["median_mb_s"] / r["hf_loop"]["median_mb_s"]
        r["ratio_vs_hf_batch_median"] = r["cpp"]["median_mb_s"] / r["hf_batch"]["median_mb_s"]
        results["results"][name] = r
        print(f"{name}: C++ {r['cpp']['median_mb_s']:.2f} MB/s, HF loop "
              f"{r['hf_loop']['median_mb_s']:.2f} MB/s, HF batch {r['hf_batch']['median_mb_s']:.2f} MB/s"
              f" (medians of {args.repeat}); ratio C++/HF loop {r['ratio_vs_hf_loop_median']:.2f}, "
              f"C++/HF batch {r['ratio_vs_hf_batch_median']:.2f}; tokens HF {hf_tokens} C++ {cpp_tokens}")
        if hf_tokens != cpp_tokens:
            print(f"  WARNING: token counts differ for {name}")
    results["load_avg_at_end"] = os.getloadavg()
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
