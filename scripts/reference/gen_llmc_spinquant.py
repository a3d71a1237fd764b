"""llm-compressor's SpinQuantModifier (R1, R2, R4; no learning) applied to a tiny Llama model with
slmquant's rotation matrices, so that slmquant's folding can be compared weight for weight.

The matrices are fed to llm-compressor by replacing its Hadamard factory's matrix construction
(compressed_tensors' HadamardFactory._create_weight) with ours, scaled by sqrt(n) because the
factory divides by it: R1 = diag(s)·H_64/8 (random Hadamard, torch.manual_seed(0)), one R2 =
diag(s)·H_16/4 for every layer (llm-compressor shares one matrix per size), R4 = the exact
Hadamard of the intermediate size 160 = 40·4 built from the reference H_40 as get_hadK/matmul_hadU
do (vec(H_K·X·H_m)/sqrt(n)). llm-compressor also unties the embeddings, mean-centres them and
fuses the norms, so the model's function to preserve is that of the centred model.

Writes model/ (the original HF model), reference.safetensors: r1, r2, r4 (float64), every
transformed tensor under its HF name, input_ids, logits_centred (the untied, centred, unrotated
model) and logits_rotated (llm-compressor's rotated model with its online R4), float32.
"""
import copy
import math

INPUT_PACKAGES = ("torch", "transformers", "safetensors", "compressed-tensors", "llmcompressor",
                  "scipy")


def random_hadamard(torch, n):
    import scipy.linalg
    s = torch.randint(0, 2, (n,)).double() * 2 - 1
    return torch.diag(s) @ (torch.tensor(scipy.linalg.hadamard(n), dtype=torch.float64) / math.sqrt(n))


def exact_hadamard(torch, n, k):
    """vec(H_K X H_m)/sqrt(n) applied to the rows of the identity (the matrix M with y = x M)."""
    import scipy.linalg
    from compressed_tensors.transform.utils.hadamard import _fetch_hadamard_divisor

    hk = _fetch_hadamard_divisor(k, torch.float64)  # the reference table H_k itself (k/k = 1)
    assert hk.shape[0] == k
    m = n // k
    hm = torch.tensor(scipy.linalg.hadamard(m), dtype=torch.float64)
    eye = torch.eye(n, dtype=torch.float64).reshape(n, k, m)
    return (hk @ eye @ hm).reshape(n, n) / math.sqrt(n)


def generate(out_dir):
    import torch
    from compressed_tensors.transform.factory.hadamard import HadamardFactory
    from llmcompressor.core import State
    from llmcompressor.modeling import center_embeddings
    from llmcompressor.modifiers.transform import SpinQuantModifier
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(11)
    config = LlamaConfig(vocab_size=384, hidden_size=64, intermediate_size=160, num_hidden_layers=3,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, initializer_range=0.08,
                         tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.normal_(1.0, 0.3)
    model.save_pretrained(out_dir / "model")

    torch.manual_seed(0)
    mats = {"R1": random_hadamard(torch, 64), "R2": random_hadamard(torch, 16),
            "R4": exact_hadamard(torch, 160, 40)}

    def create_weight(self, size, device, construct_device, precision):
        m = mats[self.name]
        assert m.shape[0] == size, (self.name, size)
        return torch.nn.Parameter((m * math.sqrt(size)).to(precision), requires_grad=False)

    HadamardFactory._create_weight = create_weight

    ids = torch.randint(3, 384, (2, 12), generator=torch.Generator().manual_seed(5))
    centred = copy.deepcopy(model)
    centred.lm_head.weight = torch.nn.Parameter(centred.model.embed_tokens.weight.detach().clone())
    centred.config.tie_word_embeddings = False
    with torch.no_grad():
        center_embeddings(centred.model.embed_tokens)
        logits_centred = centred(input_ids=ids).logits.float()

    modifier = SpinQuantModifier(rotations=["R1", "R2", "R4"], transform_type="hadamard")
    state = State(model=model)
    modifier.on_initialize(state)
    with torch.no_grad():
        modifier.on_calibration_start(state, None)
        logits_rotated = model(input_ids=ids).logits.float()
    err = (logits_rotated - logits_centred).abs().max().item()
    assert err < 1e-4, f"llm-compressor's rotated model changed the logits by {err}"

    out = {f"{k.lower()}": v.contiguous() for k, v in mats.items()}
    for name, t in model.state_dict().items():
        if name.endswith(".weight") and "transform" not in name:
            out[name] = t.detach().float().contiguous()
    out["input_ids"] = ids
    out["logits_centred"] = logits_centred.contiguous()
    out["logits_rotated"] = logits_rotated.contiguous()
    save_file(out, str(out_dir / "reference.safetensors"))
