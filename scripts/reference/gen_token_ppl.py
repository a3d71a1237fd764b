"""Reference data for the 'Wiki' token perplexity and the KL divergence (tests/reference/
token_ppl_test.cpp, tests/e2e/ppl_cli_test.cpp). GENERATED DATA: never edit by hand.

Corpus. The rows of HF `wikitext`, config wikitext-2-raw-v1, split test, rebuilt from
wiki.test.raw exactly as the dataset script that produced them does (huggingface/datasets @
02bb18c, datasets/wikitext/wikitext.py, `_generate_examples`): the file is read in text mode and
every line becomes one row, kept with its "\\n" when `row.strip()` is non-empty, else "". The
text GPTQ (datautils.get_wikitext2), SmoothQuant and AWQ score is "\\n\\n".join(rows).

Token perplexity, as GPTQ's llama_eval / opt_eval: ids = tokenizer(text).input_ids, nsamples =
numel // seqlen windows without overlap or carried context, per window the mean CrossEntropyLoss
of the seqlen-1 shifted predictions times seqlen, ppl = exp(sum / (nsamples * seqlen)).

KL divergence, as llama.cpp's `llama-perplexity --kl-divergence` (tools/perplexity): per scored
position KL(P_base || P_test) = sum_v p_base (log p_base - log p_test), here from float64
log-softmax of both models' fp32 logits over the full vocabulary; the scored positions of a
window are its second half (logits at seqlen/2 .. seqlen-2, llama.cpp's `first = n_ctx/2`) or all
seqlen-1; statistics with llama.cpp's formulas, percentiles and median as numpy's (linear).

Models: a tiny random Llama with the SmolLM2 tokenizer (rebuilt from the GGUF, see
gen_tokenizers.py) and its copy whose decoder linears are RTN-rounded to 4 bits per row
(symmetric, absmax / 7), so the two differ as a quantized model differs from its base.

Outputs:
  corpus.txt, corpus.json   the joined full test text and its rows/bytes/sha256
  synthetic_raw.txt, synthetic_rows.json  a constructed raw file (CRLF, CR, Unicode whitespace,
                            no final newline) and the rows the dataset script makes of it
  full_ids.i32              tokenizer(corpus.txt).input_ids with the SmolLM2 tokenizer (int32 LE)
  tiny/, tiny_rtn4/         the two HF checkpoints (with tokenizer.json, tokenizer_config.json)
  cases.json                GPTQ-loop perplexities and KL statistics, see `generate`
  kl_<positions>.f64        per-position KL values in scoring order (float64 LE)
"""
import hashlib
import json
import pathlib

from gen_tokenizers import smollm2_gguf, smollm2_tokenizer_json

INPUT_PACKAGES = ("torch", "transformers", "tokenizers", "gguf", "numpy")
ROOT = pathlib.Path(__file__).resolve().parents[2]
RAW = ROOT / "assets" / "data" / "wikitext2" / "wiki.test.raw"

SEQLEN = 128  # tiny model windows
SHORT_ROWS = 100  # the short corpus: "\n\n".join(rows[:SHORT_ROWS])
CLI_WINDOWS = 4  # the CLI test scores the full corpus' first windows only
AMBIGUOUS_MARGIN = 1e-4  # top-1/top-2 logit gap under which fp32 differences may flip argmax


def input_files():
    """Files whose change must regenerate this data (see run_generator.py)."""
    gguf = smollm2_gguf()
    return [str(RAW)] + ([str(gguf)] if gguf else [])


def hf_wikitext_rows(path):
    """datasets/wikitext/wikitext.py `_generate_examples`, rows only."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for row in f:
            rows.append(row if row.strip() else "")
    return rows


# Line endings and whitespace the real file lacks: "\r\n" and "\r" (text mode makes them "\n"),
# lines of only Unicode whitespace (strip() empties them), U+2028 and U+0085 (whitespace to
# strip(), but not line breaks for file iteration), and a last line without "\n".
SYNTHETIC_RAW = (" = Title = \r\n \r\n Body , text .\r \u00a0\t\n\u2028 \u0085\n"
                 " caf\u00e9 \u2028 mid\n\n  \n last line")


def tiny_model(torch, vocab_size, bos, eos):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=True,
                         initializer_range=0.15, bos_token_id=bos, eos_token_id=eos)
    torch.manual_seed(4242)
    return LlamaForCausalLM(config).eval()


def rtn4_copy(torch, model):
    import copy

    q = copy.deepcopy(model)
    with torch.no_grad():
        for name, module in q.named_modules():
            if isinstance(module, torch.nn.Linear) and name != "lm_head":
                w = module.weight
                scale = w.abs().amax(dim=1, keepdim=True) / 7
                w.copy_(torch.clamp(torch.round(w / scale), -8, 7) * scale)
    return q


def gptq_ppl(torch, model, ids, seqlen, limit=None):
    """GPTQ llama_eval's loop (full forwards instead of its layer-by-layer replay, same math)."""
    nsamples = ids.numel() // seqlen
    if limit is not None:
        nsamples = min(nsamples, limit)
    nlls = []
    with torch.no_grad():
        for i in range(nsamples):
            batch = ids[:, i * seqlen:(i + 1) * seqlen]
            lm_logits = model(batch).logits
            shift_logits = lm_logits[:, :-1, :].contiguous()
            shift_labels = batch[:, 1:]
            loss = torch.nn.CrossEntropyLoss()(shift_logits.view(-1, shift_logits.size(-1)),
                                               shift_labels.reshape(-1))
            nlls.append(loss.float() * seqlen)
    total = torch.stack(nlls).sum()
    return {"windows": nsamples, "seqlen": seqlen, "corpus_tokens": ids.numel(),
            "nll": (total / (nsamples * seqlen)).item(),
            "ppl": torch.exp(total / (nsamples * seqlen)).item()}


def kl_per_position(torch, base, test, ids, seqlen, first, limit=None):
    """Per scored position: KL, both NLLs, top-1 agreement and its ambiguity, in float64."""
    nsamples = ids.numel() // seqlen
    if limit is not None:
        nsamples = min(nsamples, limit)
    cols = {k: [] for k in ("kl", "nll_test", "nll_base", "same_top", "ambiguous")}
    with torch.no_grad():
        for i in range(nsamples):
            batch = ids[:, i * seqlen:(i + 1) * seqlen]
            lb = base(batch).logits[0, first:seqlen - 1].float()
            lt = test(batch).logits[0, first:seqlen - 1].float()
            labels = batch[0, first + 1:seqlen]
            pb = torch.log_softmax(lb.double(), -1)
            pt = torch.log_softmax(lt.double(), -1)
            cols["kl"].append((pb.exp() * (pb - pt)).sum(-1))
            cols["nll_test"].append(-pt.gather(1, labels[:, None])[:, 0])
            cols["nll_base"].append(-pb.gather(1, labels[:, None])[:, 0])
            cols["same_top"].append(lt.argmax(-1) == lb.argmax(-1))
            gap = lambda x: (lambda t: t[:, 0] - t[:, 1])(x.topk(2, -1).values)
            cols["ambiguous"].append((gap(lb) < AMBIGUOUS_MARGIN) | (gap(lt) < AMBIGUOUS_MARGIN))
    return {k: torch.cat(v).numpy() for k, v in cols.items()}, nsamples


def mean_unc(np, x):
    """llama.cpp's mean_and_uncertainty: mean and the standard error of the mean."""
    m = x.mean()
    var = (x * x).mean() - m * m
    return float(m), float(np.sqrt(var / (x.size - 1))) if var > 0 and x.size > 10 else 0.0


def kl_statistics(np, c):
    """The numbers llama.cpp prints after a --kl-divergence run, from per-position values."""
    n = c["kl"].size
    lt, ult = mean_unc(np, c["nll_test"])
    lb, ulb = mean_unc(np, c["nll_base"])
    cov = ((c["nll_test"] * c["nll_base"]).mean() - lt * lb) / (n - 1)
    ratio_unc = np.sqrt(ult * ult + ulb * ulb - 2 * cov)
    ppl_t, ppl_b = np.exp(lt), np.exp(lb)
    p_diff = np.exp(-c["nll_test"]) - np.exp(-c["nll_base"])
    kl_mean, kl_unc = mean_unc(np, c["kl"])
    same = int(c["same_top"].sum())
    same_p = same / n
    pct = {f"p{q:g}": float(np.percentile(c["kl"], q)) for q in (1, 5, 10, 90, 95, 99, 99.9)}
    return {
        "count": n, "kl_mean": kl_mean, "kl_mean_uncertainty": kl_unc,
        "kl_median": float(np.median(c["kl"])), "kl_max": float(c["kl"].max()),
        "kl_min": float(c["kl"].min()), "kl_percentiles": pct,
        "same_top": same, "same_top_fraction": same_p,
        "same_top_uncertainty": float(np.sqrt(same_p * (1 - same_p) / (n - 1))),
        "ambiguous_top": int(c["ambiguous"].sum()),
        "ppl_test": float(ppl_t), "ppl_test_uncertainty": float(ppl_t * ult),
        "ppl_base": float(ppl_b), "ppl_base_uncertainty": float(ppl_b * ulb),
        "ln_ppl_ratio": lt - lb, "ln_ppl_ratio_uncertainty": float(ratio_unc),
        "ppl_ratio": float(np.exp(lt - lb)), "ppl_diff": float(ppl_t - ppl_b),
        "ln_ppl_correlation": float(cov / (ult * ulb)),
        "p_diff_mean": float(p_diff.mean()), "p_diff_rms": float(np.sqrt((p_diff ** 2).mean())),
    }


def save_checkpoint(model, tok_doc, tok_config, folder):
    model.save_pretrained(folder)
    (folder / "tokenizer.json").write_text(json.dumps(tok_doc))
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_config))


def generate(out_dir):
    import numpy as np
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    rows = hf_wikitext_rows(RAW)
    text = "\n\n".join(rows)
    (out_dir / "corpus.txt").write_bytes(text.encode("utf-8"))
    raw_bytes = RAW.read_bytes()
    (out_dir / "corpus.json").write_text(json.dumps({
        "rows": len(rows), "nonempty_rows": sum(1 for r in rows if r),
        "bytes": len(text.encode("utf-8")), "chars": len(text),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "raw_sha256": hashlib.sha256(raw_bytes).hexdigest()}, indent=1))

    (out_dir / "synthetic_raw.txt").write_bytes(SYNTHETIC_RAW.encode("utf-8"))
    (out_dir / "synthetic_rows.json").write_text(
        json.dumps(hf_wikitext_rows(out_dir / "synthetic_raw.txt")))

    gguf = smollm2_gguf()
    if gguf is None:
        raise SystemExit("SmolLM2-135M-Instruct GGUF missing: run scripts/setup.sh")
    tok_doc, tok_config = smollm2_tokenizer_json(gguf)
    tok_folder = out_dir / "tiny"
    tok_folder.mkdir()
    (tok_folder / "tokenizer.json").write_text(json.dumps(tok_doc))
    (tok_folder / "tokenizer_config.json").write_text(json.dumps(tok_config))
    tokenizer = AutoTokenizer.from_pretrained(tok_folder)  # GPTQ: AutoTokenizer + tokenizer(text)

    full_ids = tokenizer(text, return_tensors="pt").input_ids
    (out_dir / "full_ids.i32").write_bytes(full_ids[0].numpy().astype("<i4").tobytes())

    base = tiny_model(torch, len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id)
    test = rtn4_copy(torch, base)
    save_checkpoint(base, tok_doc, tok_config, out_dir / "tiny")
    save_checkpoint(test, tok_doc, tok_config, out_dir / "tiny_rtn4")

    short_text = "\n\n".join(rows[:SHORT_ROWS])
    ids_default = tokenizer(short_text, return_tensors="pt").input_ids
    bos = tokenizer.bos_token_id
    ids_bos = ids_default if ids_default[0, 0] == bos else \
        torch.cat([torch.tensor([[bos]]), ids_default], dim=1)

    cases = {"seqlen": SEQLEN, "short_rows": SHORT_ROWS, "full_tokens": full_ids.numel(),
             "ambiguous_margin": AMBIGUOUS_MARGIN, "bos_id": bos,
             "ppl": {"default": gptq_ppl(torch, base, ids_default, SEQLEN),
                     "always": gptq_ppl(torch, base, ids_bos, SEQLEN),
                     "test_default": gptq_ppl(torch, test, ids_default, SEQLEN)},
             "kl": {}}
    for positions, first in (("second_half", SEQLEN // 2), ("all", 0)):
        cols, windows = kl_per_position(torch, base, test, ids_default, SEQLEN, first)
        stats = kl_statistics(np, cols)
        stats["windows"] = windows
        cases["kl"][positions] = stats
        (out_dir / f"kl_{positions}.f64").write_bytes(cols["kl"].astype("<f8").tobytes())

    cli = {"windows": CLI_WINDOWS,
           "ppl_test": gptq_ppl(torch, test, full_ids, SEQLEN, CLI_WINDOWS),
           "ppl_base": gptq_ppl(torch, base, full_ids, SEQLEN, CLI_WINDOWS)}
    cols, _ = kl_per_position(torch, base, test, full_ids, SEQLEN, SEQLEN // 2, CLI_WINDOWS)
    cli["kl"] = kl_statistics(np, cols)
    cases["cli"] = cli
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1))
