"""The gguf package's view of the bundled SmolLM2-135M-Instruct.Q4_1.gguf: every tensor's info and
a checksum of its fp32 dequantization (see _gguf_common.checksum), and the full fp32 values of a
few tensors (one per storage type), so the C++ dequantizers can be checked bit for bit on every
tensor of a real file.

Output: tensors.json, <name>.f32 for the dumped tensors (token_embd.weight: first 64 rows only).
"""
import json

import numpy as np

from _gguf_common import checksum, smollm2_path

INPUT_PACKAGES = ("gguf", "numpy")

DUMPED = {"blk.0.attn_norm.weight": None, "blk.0.attn_q.weight": None,
          "blk.0.ffn_down.weight": None, "token_embd.weight": 64}


def generate(out_dir):
    from gguf import GGUFReader, quants

    reader = GGUFReader(smollm2_path())
    tensors = []
    for t in reader.tensors:
        values = quants.dequantize(t.data, t.tensor_type)
        tensors.append({"name": t.name, "type": t.tensor_type.name,
                        "dims": [int(d) for d in t.shape], "offset": int(t.data_offset),
                        "checksum": checksum(values)})
        if t.name in DUMPED:
            rows = DUMPED[t.name]
            kept = values if rows is None else values[:rows]
            (out_dir / f"{t.name}.f32").write_bytes(np.ascontiguousarray(kept, "<f4").tobytes())
    (out_dir / "tensors.json").write_text(json.dumps(tensors, indent=1))
