"""The gguf package's view of assets/models/gemma-3-270m-q4_k_m.gguf, a real K-quant file (F32, Q4_K,
Q5_0, Q6_K, Q8_0): every tensor's info and the checksum of its fp32 dequantization, plus full
values of one tensor per quantized type. Output as gen_gguf_smollm2.py.
"""
from _gguf_common import dump_dequantized, model_path

INPUT_PACKAGES = ("gguf", "numpy")


def generate(out_dir):
    dump_dequantized(model_path("gemma-3-270m-q4_k_m.gguf"), out_dir,
                     {"blk.0.attn_output.weight": None, "blk.0.ffn_down.weight": None,
                      "blk.0.attn_q.weight": None, "blk.0.attn_v.weight": None})
