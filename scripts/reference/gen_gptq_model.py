"""Expected results of slmquant's calibration sampling and its layer-by-layer GPTQ.

1. Calibration windows, from Python ports of the reference samplers written from their code
   (specs/quant_methods.md §9): GPTQ datautils get_c4 (random documents with >= seqlen tokens, a
   random window in each, Python `random.seed(seed)`), get_wikitext2 (random windows of
   "\\n\\n".join(rows) of the HF wikitext rows), SmoothQuant get_act_scales (first documents, each
   truncated) and AWQ get_calib_dataset (stripped documents <= max tokens, concatenated, split into
   blocks). The documents are shuffled with random.shuffle(seed) where the references shuffle an
   HF dataset (slmquant's documented deviation). Tokenizers: transformers AutoTokenizer on the real
   Llama-3 / Qwen3 tokenizer folders in assets/data/tokenizers, called as the references call them
   (`tokenizer(text)`, special tokens added).
   -> windows.safetensors (<case>.ids [N,T] int64, <case>.mask for padded rules), windows.json.

2. GPTQ on a tiny random Llama (saved here as model/), a faithful port of IST-DASLab gptq
   llama.py `llama_sequential`: a Catcher collects layer-0 inputs sample by sample, then per layer
   forward hooks accumulate each linear's Hessian (add_batch, one sequence per forward as llama.py
   runs them), groups [k,v,q] -> [o] -> [up,gate] -> [down] when true-sequential (else all seven),
   `fasterquant` (gen_gptq.py's port of gptq.py) per linear, weights replaced by the dequantized
   ones, and the layer re-run on the quantized weights to give the next layer's inputs. The
   calibration windows are those of case `c4_model` (ids modulo the tiny vocabulary).
   -> gptq.safetensors (<case>/<linear>.codes i16, .scale f32, .zero i32), gptq_cases.json.
"""
import copy
import json
import pathlib
import random

import gen_gptq

INPUT_PACKAGES = ("torch", "transformers", "safetensors", "tokenizers")
ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "assets" / "data"
C4 = DATA / "calibration" / "c4" / "c4_validation_2k.jsonl"
WIKI = DATA / "wikitext2" / "wiki.test.raw"

WINDOW_CASES = [
    dict(name="c4_docs", source="c4", tokenizer="llama3", sampling="random_documents",
         nsamples=8, seqlen=512, seed=0),
    dict(name="c4_model", source="c4", tokenizer="qwen3", sampling="random_documents",
         nsamples=16, seqlen=64, seed=0),
    dict(name="wiki_windows", source="wikitext2", tokenizer="qwen3", sampling="random_windows",
         nsamples=8, seqlen=256, seed=2),
    dict(name="c4_truncated", source="c4", tokenizer="llama3", sampling="truncated_documents",
         nsamples=6, seqlen=64, seed=42),
    dict(name="c4_packed", source="c4", tokenizer="qwen3", sampling="packed_documents",
         nsamples=10, seqlen=128, seed=42, max_document_tokens=200),
]

VOCAB = 384
MODEL = dict(vocab_size=VOCAB, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
             rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, initializer_range=0.08,
             tie_word_embeddings=True)

# group_size 0 = per channel; symmetric False is llama.py's default (--sym off).
GPTQ_CASES = [
    dict(name="channel", bits=4, symmetric=False, group_size=0),
    dict(name="channel_actorder_seq", bits=4, symmetric=False, group_size=0, act_order=True,
         true_sequential=True),
    dict(name="group64", bits=4, symmetric=False, group_size=64),
    dict(name="group32_sym_seq", bits=4, symmetric=True, group_size=32, true_sequential=True),
    dict(name="group128_seq", bits=4, symmetric=False, group_size=128, true_sequential=True),
    dict(name="group32_actorder_static", bits=4, symmetric=False, group_size=32, act_order=True,
         static_groups=True, true_sequential=True),
]
SEQUENTIAL = [["self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj"], ["self_attn.o_proj"],
              ["mlp.up_proj", "mlp.gate_proj"], ["mlp.down_proj"]]
LINEARS = [n for group in SEQUENTIAL for n in group]


def input_files():
    files = [C4, WIKI]
    for name in ("llama3", "qwen3"):
        files += sorted((DATA / "tokenizers" / name).glob("*.json"))
    return [str(f) for f in files]


# ---- calibration samplers ------------------------------------------------------------------

def documents(source):
    if source == "c4":
        return [json.loads(line)["text"] for line in C4.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    # HF's wikitext script: one row per line (newline kept), blank lines -> "".
    rows = []
    with open(WIKI, encoding="utf-8", newline="") as f:
        for row in f:
            rows.append(row if row.strip() else "")
    return rows


def get_c4(docs, tok, n, seqlen, seed):
    random.seed(seed)
    out = []
    for _ in range(n):
        while True:
            i = random.randint(0, len(docs) - 1)
            ids = tok(docs[i])["input_ids"]
            if len(ids) >= seqlen:
                break
        i = random.randint(0, len(ids) - seqlen - 1)
        out.append(ids[i:i + seqlen])
    return out


def get_wikitext2(rows, tok, n, seqlen, seed):
    ids = tok("\n\n".join(rows))["input_ids"]
    random.seed(seed)
    out = []
    for _ in range(n):
        i = random.randint(0, len(ids) - seqlen - 1)
        out.append(ids[i:i + seqlen])
    return out


def shuffled(docs, seed):
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    return [docs[i] for i in order]


def get_act_scales_docs(docs, tok, n, seqlen, seed):
    return [tok(d, max_length=seqlen, truncation=True)["input_ids"] for d in shuffled(docs, seed)[:n]]


def get_calib_dataset(docs, tok, n, seqlen, seed, max_tokens):
    samples, kept = [], 0
    for d in shuffled(docs, seed):
        enc = tok.encode(d.strip())
        if len(enc) > max_tokens:
            continue
        if len(enc) == 0:
            continue
        samples += enc
        kept += 1
        if kept == n:
            break
    blocks = len(samples) // seqlen
    return [samples[i * seqlen:(i + 1) * seqlen] for i in range(blocks)]


def windows(case, tok):
    docs = documents(case["source"])
    n, seqlen, seed = case["nsamples"], case["seqlen"], case["seed"]
    rule = case["sampling"]
    if rule == "random_documents":
        return get_c4(docs, tok, n, seqlen, seed)
    if rule == "random_windows":
        return get_wikitext2(docs, tok, n, seqlen, seed)
    if rule == "truncated_documents":
        return get_act_scales_docs(docs, tok, n, seqlen, seed)
    return get_calib_dataset(docs, tok, n, seqlen, seed, case["max_document_tokens"])


def to_tensors(torch, rows, seqlen):
    ids = torch.zeros(len(rows), seqlen, dtype=torch.int64)
    mask = torch.zeros(len(rows), seqlen, dtype=torch.int64)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = torch.tensor(row, dtype=torch.int64)
        mask[r, :len(row)] = 1
    return ids, mask


# ---- llama.py llama_sequential -------------------------------------------------------------

def capture_layer0(torch, model, ids):
    """llama.py's Catcher: layer-0 inputs and the keyword arguments the model passes layers."""
    layers = model.model.layers
    inps, cache = [], {}

    class Catcher(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, inp, **kwargs):
            inps.append(inp)
            cache["kwargs"] = kwargs
            raise ValueError

    layers[0] = Catcher(layers[0])
    for j in range(ids.shape[0]):
        try:
            model(ids[j:j + 1])
        except ValueError:
            pass
    layers[0] = layers[0].module
    return torch.cat(inps, 0), cache["kwargs"]


def run_layer(layer, x, kwargs):
    out = layer(x.unsqueeze(0), **kwargs)
    return (out[0] if isinstance(out, tuple) else out)[0]


def llama_sequential(torch, model, ids, c):
    model.config.use_cache = False  # as llama.py: no KV cache shared between the samples
    inps, kwargs = capture_layer0(torch, model, ids)
    outs = torch.zeros_like(inps)
    result = {}
    case = dict(flavour="gptq", bits=c["bits"], symmetric=c["symmetric"],
                group_size=c["group_size"], act_order=c.get("act_order", False),
                static_groups=c.get("static_groups", False))
    groups = SEQUENTIAL if c.get("true_sequential") else [LINEARS]
    for i, layer in enumerate(model.model.layers):
        modules = dict(layer.named_modules())
        for names in groups:
            states = {n: {"H": torch.zeros(modules[n].in_features, modules[n].in_features), "n": 0}
                      for n in names}
            hooks = [modules[n].register_forward_hook(
                lambda m, inp, out, n=n: gen_gptq.add_batch(torch, states[n], inp[0].data))
                for n in names]
            for j in range(ids.shape[0]):
                outs[j] = run_layer(layer, inps[j], kwargs)
            for h in hooks:
                h.remove()
            for n in names:
                w = modules[n].weight.data
                codes, s, z, q, _, _ = gen_gptq.fasterquant(torch, w, states[n]["H"], case)
                modules[n].weight.data = q.to(w.dtype)
                result[f"model.layers.{i}.{n}"] = (codes, s, z)
        for j in range(ids.shape[0]):
            outs[j] = run_layer(layer, inps[j], kwargs)
        inps, outs = outs, inps
    return result


def generate(out_dir):
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(1)  # the C++ test runs single-threaded: same BLAS reduction order
    tensors, meta = {}, []
    for case in WINDOW_CASES:
        tok = AutoTokenizer.from_pretrained(str(DATA / "tokenizers" / case["tokenizer"]))
        rows = windows(case, tok)
        ids, mask = to_tensors(torch, rows, case["seqlen"])
        tensors[case["name"] + ".ids"] = ids
        if case["sampling"] == "truncated_documents":
            tensors[case["name"] + ".mask"] = mask
        meta.append(dict(case, windows=len(rows)))
    save_file(tensors, out_dir / "windows.safetensors")
    (out_dir / "windows.json").write_text(json.dumps(meta, indent=1))

    torch.manual_seed(5)
    model = LlamaForCausalLM(LlamaConfig(**MODEL)).eval()
    model.save_pretrained(out_dir / "model")
    ids = tensors["c4_model.ids"] % VOCAB
    out = {}
    with torch.no_grad():
        for c in GPTQ_CASES:
            result = llama_sequential(torch, copy.deepcopy(model), ids, c)
            for name, (codes, s, z) in result.items():
                out[f"{c['name']}/{name}.codes"] = codes.to(torch.int16).contiguous()
                out[f"{c['name']}/{name}.scale"] = s.contiguous()
                out[f"{c['name']}/{name}.zero"] = z.to(torch.int32).contiguous()
    save_file(out, out_dir / "gptq.safetensors")
    (out_dir / "gptq_cases.json").write_text(json.dumps(GPTQ_CASES, indent=1))
