"""A GGUF file written by the `gguf` package from seeded random data, and what that package reads
back from it: every metadata value type (nested arrays included), a non-default alignment, and
tensors of every type slmquant dequantizes, with the package's own fp32 dequantization of each.

Types the package can quantize (BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0; F32/F16 by casting) are
quantized from random normal data; for the K-quants the package only dequantizes, so their blocks
are random bytes with finite fp16 scales.

Output: synthetic.gguf, metadata.json (key -> {types, value}), tensors.json (name, type, dims in
ggml order, absolute data offset, n_bytes), and <tensor name>.f32 (raw little-endian float32).
"""
import json

import numpy as np

INPUT_PACKAGES = ("gguf", "numpy")

QUANTIZED = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]
# K-quant name -> byte offsets of its fp16 scale fields inside a block.
K_QUANTS = {"Q2_K": (80, 82), "Q3_K": (108,), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,)}


def add_metadata(writer):
    """Writes one key per value type; returns the values written, for nested arrays."""
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4000000000)
    writer.add_int32("test.int32", -2000000000)
    writer.add_float32("test.float32", 0.1)
    writer.add_bool("test.bool_true", True)
    writer.add_bool("test.bool_false", False)
    writer.add_string("test.string", "héllo wörld ✓ 🙂")
    writer.add_string("test.empty_string", "")
    writer.add_uint64("test.uint64", 2**63 + 12345)
    writer.add_int64("test.int64", -(2**62))
    writer.add_float64("test.float64", 1.0 / 3.0)
    writer.add_array("test.array_int32", [1, -2, 3, -4])
    writer.add_array("test.array_float32", [0.5, -1.25, 3.0e-8])
    writer.add_array("test.array_string", ["a", "", "ü b", "<|im_end|>"])
    writer.add_array("test.array_bool", [True, False, True])
    nested = [[1, 2, 3], [4], [5, 6]]
    writer.add_array("test.array_nested", nested)
    return {"test.array_nested": nested}


def random_k_blocks(rng, name, n_blocks):
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    type_size = GGML_QUANT_SIZES[GGMLQuantizationType[name]][1]
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in K_QUANTS[name]:
        scale = rng.uniform(-0.05, 0.05, size=n_blocks).astype(np.float16)
        blocks[:, off:off + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
    return blocks


def add_tensors(writer, rng):
    from gguf import GGMLQuantizationType, quants

    for name in QUANTIZED:
        qtype = GGMLQuantizationType[name]
        for i, shape in enumerate([(3, 64), (2, 2, 96), (32, 256)]):
            data = rng.standard_normal(shape).astype(np.float32)
            packed = quants.quantize(data, qtype)
            writer.add_tensor(f"{name.lower()}.{i}", packed, raw_dtype=qtype)
    for name in K_QUANTS:
        qtype = GGMLQuantizationType[name]
        for i, rows in enumerate([1, 16]):
            blocks = random_k_blocks(rng, name, rows * 2).reshape(rows, -1)
            writer.add_tensor(f"{name.lower()}.{i}", blocks, raw_dtype=qtype)


def jsonable(value):
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def dump_reference(path, out_dir, written):
    from gguf import GGUFReader, quants

    reader = GGUFReader(path)
    metadata = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        types = [t.name for t in field.types]
        value = written[key] if key in written else jsonable(field.contents())
        metadata[key] = {"types": types, "value": value}
    (out_dir / "metadata.json").write_text(json.dumps(metadata, indent=1, ensure_ascii=False))
    tensors = []
    for t in reader.tensors:
        values = quants.dequantize(t.data, t.tensor_type).astype("<f4", copy=False)
        (out_dir / f"{t.name}.f32").write_bytes(values.tobytes())
        tensors.append({"name": t.name, "type": t.tensor_type.name, "dims": [int(d) for d in t.shape],
                        "offset": int(t.data_offset), "n_bytes": int(t.n_bytes)})
    (out_dir / "tensors.json").write_text(json.dumps(tensors, indent=1))


def generate(out_dir):
    from gguf import GGUFWriter

    rng = np.random.default_rng(20261122)
    path = out_dir / "synthetic.gguf"
    writer = GGUFWriter(str(path), "llama")
    writer.add_custom_alignment(64)
    written = add_metadata(writer)
    add_tensors(writer, rng)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    dump_reference(path, out_dir, written)
