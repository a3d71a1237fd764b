"""Creates the assets that the demo config and the README's commands use, under assets/ (git-ignored).

assets/models/tiny-llama: a small random-initialised LlamaForCausalLM saved by HF transformers
(config.json, model.safetensors, generation_config.json). Skipped when already present.
"""
import pathlib
import sys

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


def main():
    models = ROOT / "assets" / "models"
    models.mkdir(parents=True, exist_ok=True)
    make_tiny_llama(models / "tiny-llama")


if __name__ == "__main__":
    main()
