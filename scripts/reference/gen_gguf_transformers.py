"""What HF transformers makes of the bundled SmolLM2 GGUF: its config and converted tokenizer files
(AutoConfig / AutoTokenizer.from_pretrained(..., gguf_file=...)), and the state dict that
from_pretrained(..., gguf_file=...) loads, after dequantization, name mapping and reverse Q/K
permutation (checksums of every tensor, full values of layer 0's q/k/v). The state dict comes from
transformers' own load_gguf_checkpoint, which from_pretrained calls; calling it directly avoids
from_pretrained's dependency on `accelerate`.

Output: config.json (AutoConfig.to_dict()), tokenizer.json, tokenizer_config.json
(save_pretrained), state_dict.json (HF name -> {shape, checksum}), <name>.f32 for dumped tensors.
"""
import json
import os
import shutil
import tempfile

import numpy as np

from _gguf_common import checksum, smollm2_path

INPUT_PACKAGES = ("transformers", "gguf", "torch", "tokenizers", "numpy")

DUMPED = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
          "model.layers.0.self_attn.v_proj.weight"]


def generate(out_dir):
    os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' per-tensor progress bar
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    path = smollm2_path()
    folder, name = str(path.parent), path.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    (out_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=1, default=str))

    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(f"{tmp}/{f}", out_dir / f)

    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    skeleton = AutoModelForCausalLM.from_config(config)  # only its parameter names are used
    loaded = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=skeleton)
    state = {}
    for key, tensor in loaded["tensors"].items():
        values = tensor.detach().to(torch.float32).numpy()
        state[key] = {"shape": list(values.shape), "checksum": checksum(values)}
        if key in DUMPED:
            (out_dir / f"{key}.f32").write_bytes(np.ascontiguousarray(values, "<f4").tobytes())
    (out_dir / "state_dict.json").write_text(json.dumps(state, indent=1))
