"""Helpers shared by the GGUF reference generators."""
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOLLM2_GGUF = ROOT / "assets" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path():
    if not SMOLLM2_GGUF.exists():
        raise SystemExit(f"{SMOLLM2_GGUF} is missing: run scripts/setup.sh (it downloads it)")
    return SMOLLM2_GGUF


def checksum(values):
    """Order- and bit-sensitive checksum of fp32 data: sum over i of bits(x_i) * (i % 65521 + 1),
    modulo 2**64. tests/support/checksum.h computes the same in C++."""
    bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32).astype(np.uint64)
    weights = np.arange(bits.size, dtype=np.uint64) % np.uint64(65521) + np.uint64(1)
    return str(int(np.sum(bits * weights, dtype=np.uint64)))
