"""The gguf package's view of the bundled SmolLM2-135M-Instruct.Q4_1.gguf (F32, Q4_1, Q8_0): every
tensor's info and a checksum of its fp32 dequantization (see _gguf_common.checksum), and the full
fp32 values of a few tensors (one per storage type), so the C++ dequantizers can be checked bit
for bit on every tensor of a real file.

Output: tensors.json, <name>.f32 for the dumped tensors (token_embd.weight: first 64 rows only).
"""
from _gguf_common import dump_dequantized, smollm2_path

INPUT_PACKAGES = ("gguf", "numpy")


def generate(out_dir):
    dump_dequantized(smollm2_path(), out_dir,
                     {"blk.0.attn_norm.weight": None, "blk.0.attn_q.weight": None,
                      "blk.0.ffn_down.weight": None, "token_embd.weight": 64})
