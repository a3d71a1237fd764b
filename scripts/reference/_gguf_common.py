"""Helpers shared by the GGUF reference generators."""
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / "assets" / "models"


def model_path(name):
    path = MODELS / name
    if not path.exists():
        raise SystemExit(f"{path} is missing: run scripts/setup.sh (it downloads it)")
    return path


def smollm2_path():
    return model_path("SmolLM2-135M-Instruct.Q4_1.gguf")


def checksum(values):
    """Order- and bit-sensitive checksum of fp32 data: sum over i of bits(x_i) * (i % 65521 + 1),
    modulo 2**64. tests/support/checksum.h computes the same in C++."""
    bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32).astype(np.uint64)
    weights = np.arange(bits.size, dtype=np.uint64) % np.uint64(65521) + np.uint64(1)
    return str(int(np.sum(bits * weights, dtype=np.uint64)))


def dump_dequantized(path, out_dir, dumped):
    """tensors.json: every tensor's info and the checksum of the gguf package's fp32
    dequantization; <name>.f32: full values of the tensors in `dumped` (name -> rows kept, None
    for all)."""
    import json

    from gguf import GGUFReader, quants

    reader = GGUFReader(path)
    tensors = []
    for t in reader.tensors:
        values = quants.dequantize(t.data, t.tensor_type)
        tensors.append({"name": t.name, "type": t.tensor_type.name,
                        "dims": [int(d) for d in t.shape], "offset": int(t.data_offset),
                        "checksum": checksum(values)})
        if t.name in dumped:
            rows = dumped[t.name]
            kept = values if rows is None else values[:rows]
            (out_dir / f"{t.name}.f32").write_bytes(np.ascontiguousarray(kept, "<f4").tobytes())
    (out_dir / "tensors.json").write_text(json.dumps(tensors, indent=1))
