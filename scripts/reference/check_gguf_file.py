"""The gguf package's reading of a GGUF file, for tests of slmquant's GGUF writer:
    check_gguf_file.py FILE OUT.json
OUT.json: {"metadata": {key: {"types": [...], "value": ...}}, "tensors": [{"name", "type", "dims"
(ggml order), "checksum" of the fp32 dequantization (_gguf_common.checksum)}]}. The test compares
this with what slmquant's own reader sees in the same file.
"""
import json
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from _gguf_common import checksum  # noqa: E402


def main(path, out):
    from gguf import GGUFReader, quants

    reader = GGUFReader(path)
    metadata = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        metadata[key] = {"types": [t.name for t in field.types], "value": field.contents()}
    tensors = []
    for t in reader.tensors:
        values = quants.dequantize(t.data, t.tensor_type)
        tensors.append({"name": t.name, "type": t.tensor_type.name,
                        "dims": [int(d) for d in t.shape], "checksum": checksum(values)})
    with open(out, "w") as f:
        json.dump({"metadata": metadata, "tensors": tensors}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
