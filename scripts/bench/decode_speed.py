"""Greedy decode speed, slmquant against transformers, same machine, model, dtype and settings.

Both decode a fixed prompt for --new-tokens tokens with EOS ignored, batch 1, after one warm-up
run; each side is repeated --repeats times and the median decode tokens/s is reported with the
min-max spread. slmquant runs as a subprocess (`slmquant generate --ignore-eos`), transformers in
this interpreter with the same thread count (torch.set_num_threads).

  .venv/bin/python scripts/bench/decode_speed.py MODEL [--gguf FILE] [--threads N]
MODEL is an HF folder; with --gguf, transformers loads FILE (dequantized) and slmquant loads FILE.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time


def slmquant_decode(binary, model, prompt, new_tokens, dtype, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [binary, "generate", model, "--device", "cpu", "--dtype", dtype, "--ignore-eos",
           "--prompt-ids", ",".join(map(str, prompt)), "--max-new-tokens", str(new_tokens)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    m = re.search(r"decode (\d+) tokens in ([0-9.]+) s", out.stderr)
    return int(m.group(1)) / float(m.group(2))


def hf_decode(model, prompt, new_tokens):
    import torch

    ids = torch.tensor([prompt])
    with torch.no_grad():
        # Time the same thing slmquant reports: the decode steps after the first token.
        t0 = time.perf_counter()
        model.generate(ids, max_new_tokens=1, min_new_tokens=1, do_sample=False, eos_token_id=None, pad_token_id=0)
        t1 = time.perf_counter()
        model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                       eos_token_id=None, pad_token_id=0)
        t2 = time.perf_counter()
    return (new_tokens - 1) / ((t2 - t1) - (t1 - t0))


def summarize(name, values):
    med = statistics.median(values)
    print(f"{name:<13} median {med:8.1f} tok/s  (min {min(values):.1f}, max {max(values):.1f}, n={len(values)})")
    return med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--gguf")
    ap.add_argument("--binary", default="build/slmquant")
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    if args.gguf:
        hf = AutoModelForCausalLM.from_pretrained(os.path.dirname(args.gguf) or ".",
                                                  gguf_file=os.path.basename(args.gguf), dtype=dtype).eval()
    else:
        hf = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype).eval()
    target = args.gguf or args.model
    prompt = [1, 504, 3458, 282, 4649, 314]  # fixed ids; both sides decode the same tokens
    prompt = [p % hf.config.vocab_size for p in prompt]

    hf_decode(hf, prompt, 8)
    slmquant_decode(args.binary, target, prompt, 8, args.dtype, args.threads)
    ours = [slmquant_decode(args.binary, target, prompt, args.new_tokens, args.dtype, args.threads)
            for _ in range(args.repeats)]
    theirs = [hf_decode(hf, prompt, args.new_tokens) for _ in range(args.repeats)]
    print(f"greedy decode, batch 1, {args.new_tokens} new tokens, EOS ignored, {args.dtype}, "
          f"{args.threads} threads, {os.uname().machine} {torch.__version__}")
    a = summarize("slmquant", ours)
    b = summarize("transformers", theirs)
    print(f"ratio slmquant/transformers = {a / b:.2f}")


if __name__ == "__main__":
    sys.exit(main())
