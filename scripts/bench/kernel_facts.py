#!/usr/bin/env python3
"""Microbenchmark of the CPU matmul routes torch offers for quantized linears (one thread).

Every route computes y = x W^T for the same [N, K] weight at M rows; the routes are timed in
interleaved rounds (A/B/C... in each round, several rounds) so that load from other processes on
the machine hits them alike; each cell prints the median µs per call and the spread (min-max of
the per-round medians). Not a test: a measurement aid for choosing backends.

  .venv/bin/python scripts/bench/kernel_facts.py [--rounds 5] [--shapes 576x1536,...] [--m 1,128]
"""
import argparse
import statistics
import time

import torch


def routes(K, N, g=64):
    torch.manual_seed(0)
    w = torch.randn(N, K) * 0.05
    # per-channel symmetric int8
    s8 = w.abs().amax(1, keepdim=True) / 127
    q8 = torch.clamp(torch.round(w / s8), -128, 127).to(torch.int8)
    qw = torch._make_per_channel_quantized_tensor(q8, s8.squeeze(1).double(), torch.zeros(N, dtype=torch.long), 0)
    packed = torch.ops.quantized.linear_prepack(qw, None)
    # int8pack (bf16 activations)
    s8_bf = s8.squeeze(1).to(torch.bfloat16)
    # int4 g128 for int4pack: asymmetric-style scales_and_zeros [K/g, N, 2]
    wg = w.view(N, K // g, g)
    s4 = wg.abs().amax(2) / 7
    q4 = torch.clamp(torch.round(wg / s4.unsqueeze(2)), -8, 7).view(N, K)
    u4 = (q4 + 8).to(torch.int32)
    w4pack = torch.ops.aten._convert_weight_to_int4pack_for_cpu(u4, 1)
    sz = torch.stack([s4.t(), torch.zeros_like(s4.t())], 2).contiguous().to(torch.bfloat16)
    # int4pack's zero convention: w = (u - 8) * s + z
    wf16 = w.half()
    fp16_packed = torch.fbgemm_pack_gemm_matrix_fp16(w)

    def fp32(x):
        return torch.nn.functional.linear(x, w)

    def fbgemm_dyn_int8(x):
        return torch.ops.quantized.linear_dynamic(x, packed, False)

    def fbgemm_fp16(x):
        return torch.fbgemm_linear_fp16_weight(x, fp16_packed, torch.zeros(N))

    def int8pack_bf16(x):
        return torch.ops.aten._weight_int8pack_mm(x.to(torch.bfloat16), q8, s8_bf).float()

    def int4pack_bf16(x):
        return torch.ops.aten._weight_int4pack_mm_for_cpu(x.to(torch.bfloat16), w4pack, g, sz).float()

    def bf16_linear(x):
        return torch.nn.functional.linear(x.to(torch.bfloat16), w.to(torch.bfloat16)).float()
    return {"fp32": fp32, "fbgemm_dyn_int8": fbgemm_dyn_int8, "fbgemm_fp16": fbgemm_fp16,
            "int8pack_bf16": int8pack_bf16, "int4pack_bf16": int4pack_bf16}


def time_call(fn, x, min_s=0.15):
    fn(x)
    n, t0 = 0, time.perf_counter()
    while True:
        fn(x)
        n += 1
        el = time.perf_counter() - t0
        if el > min_s and n >= 3:
            return el / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--shapes", default="576x1536,1536x576,576x49152")
    ap.add_argument("--m", default="1,128,512")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.quantized.engine = "fbgemm"
    print(f"torch {torch.__version__} {torch.backends.cpu.get_cpu_capability()} threads={a.threads}")
    for shape in a.shapes.split(","):
        K, N = map(int, shape.split("x"))
        rs = routes(K, N)
        for M in map(int, a.m.split(",")):
            x = torch.randn(M, K)
            ref = rs["fp32"](x)
            samples = {k: [] for k in rs}
            for _ in range(a.rounds):
                for k, fn in rs.items():
                    samples[k].append(time_call(fn, x))
            base = statistics.median(samples["fp32"])
            for k, v in samples.items():
                med = statistics.median(v)
                err = (rs[k](x) - ref).abs().max().item() / ref.abs().max().item()
                print(f"K={K:5d} N={N:5d} M={M:4d} {k:16s} {med:10.1f} us  [{min(v):.1f}-{max(v):.1f}]"
                      f"  x{base / med:5.2f} vs fp32  relerr {err:.3g}")


if __name__ == "__main__":
    main()
