"""safetensors files written by the reference `safetensors` package, for the C++ reader's tests.

all_dtypes.safetensors: one small tensor per torch-representable safetensors dtype, named by the
dtype ("F32", "BF16", "U16", ...), with metadata {"origin": "gen_safetensors_dtypes"}.
expected.safetensors: the same values widened by torch (F64 for floats and BOOL, I64 for ints).
small_model.safetensors: a few float32 tensors to corrupt in the corruption tests.
"""
INPUT_PACKAGES = ("torch", "safetensors")


def generate(out_dir):
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(7)
    base = torch.randn(3, 5, generator=g, dtype=torch.float64) * 4
    ints = torch.randint(0, 120, (3, 5), generator=g)
    floats = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
              "BF16": torch.bfloat16, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
              "F8_E8M0": torch.float8_e8m0fnu}
    integers = {"I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
                "U8": torch.uint8, "U16": torch.uint16, "U32": torch.uint32, "U64": torch.uint64}
    tensors, expected = {}, {}
    for name, dtype in floats.items():
        source = base.abs() + 0.01 if dtype == torch.float8_e8m0fnu else base  # E8M0: powers of two
        tensors[name] = source.to(dtype)
        expected[name] = tensors[name].to(torch.float64)
    for name, dtype in integers.items():
        tensors[name] = ints.to(dtype)
        expected[name] = ints.clone()
    tensors["BOOL"] = ints % 2 == 0
    expected["BOOL"] = tensors["BOOL"].to(torch.float64)
    tensors["EMPTY"] = torch.zeros(0, 4)
    expected["EMPTY"] = torch.zeros(0, 4, dtype=torch.float64)
    save_file(tensors, out_dir / "all_dtypes.safetensors", metadata={"origin": "gen_safetensors_dtypes"})
    save_file(expected, out_dir / "expected.safetensors")
    small = {"a.weight": torch.randn(4, 6, generator=g), "b.weight": torch.randn(8, generator=g),
             "c.bias": torch.randn(2, 3, generator=g)}
    save_file(small, out_dir / "small_model.safetensors")
