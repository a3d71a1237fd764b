"""lm-evaluation-harness itself (PyPI lm-eval, HF backend `HFLM`, fp32, CPU) scoring real models on
our local data: the golden files of the model-level parity tests.

Models:
  tiny_llama3   random LlamaForCausalLM (seeded) with the real Llama-3 tokenizer (adds BOS);
                max_position_embeddings 256, so 5-shot contexts are left-truncated and WikiText
                pages take several rolling windows.
  tiny_qwen3    random Qwen2ForCausalLM (seeded) with the real Qwen3 tokenizer (no BOS; the rolling
                prefix token is then EOS); max_position_embeddings 512.
  smollm2_135m  SmolLM2-135M-Instruct from assets/models/SmolLM2-135M-Instruct.Q4_1.gguf, loaded by
                lm-eval as `--model_args pretrained=assets/models,gguf_file=...` does (transformers
                dequantizes to fp32 and converts the GGUF tokenizer), with the two places where
                transformers' GGUF tokenizer converter departs from SmolLM2's own tokenizer put back
                (original_smollm2_tokenizer): every digit isolated before the byte-level split, and
                <|im_end|> as EOS. The golden files are then what lm-eval gives on the hub model.
Runs and their limits per model: MODELS below (SmolLM2 has no mmlu_5shot and one WikiText page,
for time; see the comment there).
The tiny models are saved (save_pretrained, tokenizer.json/tokenizer_config.json from
assets/data/tokenizers; the Llama-3 one gets Meta's BOS post-processor back, see
llama3_bos_post_processor) under <out>/models/<model_id>/ and lm-eval loads that folder, so the
C++ test loads the same files. Random weights are scaled up (initializer_range) so the next-token
distributions are peaked and the choices' loglikelihoods far apart.

Data: `_lm_eval_local` (lm-eval's stock tasks; only datasets.load_dataset is redirected).
HellaSwag runs twice: "hellaswag" scores the real validation items in llama.cpp's layout
(data/SOURCES.md; lm-eval's process_docs is skipped, the text is already processed) and
"hellaswag_raw" the constructed raw-schema rows through lm-eval's own preprocessing; the latter's
rows are written to <out>/hf_data/hellaswag/{validation,train}.jsonl (what the run's "data_dir"
points at), HF schema as `datasets` writes it.

Output, one JSON per run at <out>/<model_id>/<run>.json:
  model_id, model: {kind: "hf_folder" | "gguf", path: relative to <out> (hf_folder) or to the repo
    root (gguf)}, run, task (our task name), hellaswag_layout ("llamacpp" | "raw", hellaswag only),
  data_dir (null: assets/data; else relative to <out>), num_fewshot, limit (per subtask for MMLU),
  dtype "float32", device "cpu", batch_size, lm_eval_version, transformers_version,
  max_length (HFLM's), add_bos_token (HFLM's argument: null = tokenizer default),
  tokenizer: {bos_token, bos_token_id, eos_token, eos_token_id, pad_token_id, adds_bos (does
    encode("a") start with BOS), prefix_token_id (rolling-window prefix), eot_text (EOS decoded,
    appended to generation stop strings)},
  gen_kwargs (generation overrides given to lm-eval, e.g. {"max_gen_toks": 32}),
  requests: one per lm-eval Instance, sorted by (subtask, doc_index, idx):
    {subtask (lm-eval task name: "arc_easy", "mmlu_anatomy", ...; the llama.cpp-layout copy of
     hellaswag.yaml, named hellaswag_llamacpp in lm-eval, is written as "hellaswag" everywhere),
     doc_index, idx, type:
     "loglikelihood" | "loglikelihood_rolling" | "generate_until", and
     loglikelihood: context, continuation, context_tokens, continuation_tokens (lm-eval's
       _encode_pair, before max_length truncation), loglikelihood, is_greedy;
     loglikelihood_rolling: text, tokens (tok_encode(text)), loglikelihood;
     generate_until: context, until (the request's stop strings), stop (HFLM's effective list,
       EOS text added), max_gen_toks, context_tokens (tok_batch_encode, left-truncated to
       max_length - max_gen_toks), generation (the raw response, before filters)},
  samples: one per (subtask, doc): {subtask, doc_id, target, filtered_resps {filter: value},
    metrics {"metric,filter": value}} (lm-eval's log_samples),
  results: lm-eval's results entries for the subtasks and groups ("acc,none", "acc_stderr,none",
    "acc_norm,none", "word_perplexity,none", "exact_match,strict-match", ...), n_samples.
<out>/index.json lists the models and runs ({model_id: {model, runs: {run: file}}}).
<out>/timings.json: seconds per model load and per run (not part of the golden data).
Generation: greedy (lm-eval's default for these tasks); seeds are lm-eval's defaults.
"""
import json
import os
import pathlib
import shutil
import time

from _lm_eval_local import ROOT, constructed_hellaswag_rows, data_files, evaluate, offline_quiet, task_manager

INPUT_PACKAGES = ("lm-eval", "datasets", "transformers", "torch", "tokenizers", "safetensors", "gguf",
                  "accelerate")

GGUF = "assets/models/SmolLM2-135M-Instruct.Q4_1.gguf"
TOKENIZERS = ROOT / "assets" / "data" / "tokenizers"
GSM8K_GEN = {"max_gen_toks": 32}

# run name -> (our task, lm-eval tasks, num_fewshot, limit)
RUNS = {
    "arc_easy": ("arc_easy", ["arc_easy"], 0, 50),
    "arc_challenge": ("arc_challenge", ["arc_challenge"], 0, 50),
    "piqa": ("piqa", ["piqa"], 0, 50),
    "hellaswag": ("hellaswag", ["hellaswag_llamacpp"], 0, 50),
    "hellaswag_raw": ("hellaswag", ["hellaswag"], 0, None),
    "mmlu_0shot": ("mmlu", ["mmlu"], 0, 2),
    "mmlu_5shot": ("mmlu", ["mmlu"], 5, 2),
    "wikitext": ("wikitext", ["wikitext"], 0, 3),
    "gsm8k": ("gsm8k", ["gsm8k"], 5, 5),
}

# The subsets are cut to what a shared 2-core CPU runs in minutes; measured there (OMP 1, load ~12):
# SmolLM2 MMLU 5-shot at one doc per subject 664 s (57 prompts of up to 2.7k tokens) and its three
# WikiText documents (1.2k-5.3k tokens, one padded batch) 550 s, against ~60-110 s for each other
# run. So SmolLM2 gets the issue's subsets except MMLU 5-shot (the tiny Llama runs it, truncated)
# and WikiText beyond the first document; the tiny models (cost: a vocabulary-sized log-softmax
# per position) get fewer items, every request type, layout and BOS/truncation case kept.
TINY_LIMITS = {"arc_easy": 20, "arc_challenge": 20, "piqa": 20, "hellaswag": 20, "mmlu_0shot": 1,
               "mmlu_5shot": 1, "wikitext": 1}

MODELS = {
    # max_length 256: 5-shot contexts left-truncated (BOS dropped), 3 WikiText pages in windows.
    "tiny_llama3": dict(kind="hf_folder", arch="llama", tokenizer="llama3", max_positions=256,
                        runs=list(RUNS), limits=dict(TINY_LIMITS, wikitext=3), batch_size=4),
    "tiny_qwen3": dict(kind="hf_folder", arch="qwen2", tokenizer="qwen3", max_positions=512,
                       runs=["arc_easy", "hellaswag", "hellaswag_raw", "wikitext", "gsm8k"],
                       limits=TINY_LIMITS, batch_size=4),
    "smollm2_135m": dict(kind="gguf", path=GGUF, limits={"wikitext": 1}, batch_size=8,
                         runs=[r for r in RUNS if r != "mmlu_5shot"]),
}


def input_files():
    """run_generator's stamp: the task data, the GGUF and the tokenizers."""
    return data_files() + [str(ROOT / GGUF)] + [str(TOKENIZERS / t / f) for t in ("llama3", "qwen3")
                                                for f in ("tokenizer.json", "tokenizer_config.json")]


def llama3_bos_post_processor(tokenizer_json):
    """Meta's Llama-3 tokenizer.json post-processor: ByteLevel, then BOS before the text. The
    bundled copy (npm @lenml) has the ByteLevel part only and so adds no BOS."""
    bos = "<|begin_of_text|>"
    bos_id = next(t["id"] for t in tokenizer_json["added_tokens"] if t["content"] == bos)
    return {"type": "Sequence", "processors": [
        tokenizer_json["post_processor"],
        {"type": "TemplateProcessing",
         "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {bos: {"id": bos, "ids": [bos_id], "tokens": [bos]}}}]}


def make_tiny_model(folder, arch, tokenizer_name, max_positions, seed=1234):
    """A seeded random model sized to the real tokenizer, saved with that tokenizer's files."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    folder.mkdir(parents=True)
    shutil.copy(TOKENIZERS / tokenizer_name / "tokenizer_config.json", folder / "tokenizer_config.json")
    tokenizer_json = json.loads((TOKENIZERS / tokenizer_name / "tokenizer.json").read_text(encoding="utf-8"))
    if tokenizer_name == "llama3":
        tokenizer_json["post_processor"] = llama3_bos_post_processor(tokenizer_json)
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer_json, ensure_ascii=False), encoding="utf-8")
    tok = AutoTokenizer.from_pretrained(str(folder))
    common = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_positions,
                  rms_norm_eps=1e-5, initializer_range=0.3, tie_word_embeddings=True,
                  bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    if arch == "llama":
        cls, config = LlamaForCausalLM, LlamaConfig(**common, rope_theta=500000.0)
    else:
        cls, config = Qwen2ForCausalLM, Qwen2Config(**common, rope_theta=1000000.0)
    torch.manual_seed(seed)
    model = cls(config).to(torch.float32).eval()
    model.save_pretrained(str(folder))


def load_lm(spec, out_dir, model_id):
    from lm_eval.models.huggingface import HFLM

    common = dict(dtype="float32", device="cpu", batch_size=spec["batch_size"])
    if spec["kind"] == "gguf":
        path = ROOT / spec["path"]
        lm = recording(HFLM)(pretrained=str(path.parent), gguf_file=path.name, **common)
        original_smollm2_tokenizer(lm)
        return lm
    folder = out_dir / "models" / model_id
    make_tiny_model(folder, spec["arch"], spec["tokenizer"], spec["max_positions"])
    return recording(HFLM)(pretrained=str(folder), **common)


def original_smollm2_tokenizer(lm):
    """SmolLM2's hub tokenizer.json splits Digits(individual_digits) before ByteLevel and its EOS
    is <|im_end|>; transformers' GGUF converter keeps ByteLevel alone (so ".  25" becomes two
    single spaces instead of one double-space token) and names <|im_start|> as EOS. Both are
    undone here so lm-eval sees the tokenizer the model was trained with, as llama.cpp does from
    tokenizer.ggml.pre = "smollm"."""
    from tokenizers import pre_tokenizers

    tok = lm.tokenizer
    tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.eos_token = "<|im_end|>"
    lm.model.generation_config.eos_token_id = tok.eos_token_id


def recording(base):
    """base with its three request methods recording (instance, response) pairs (and no progress
    bars in the generator's log)."""

    class Recording(base):
        records = []

        def _record(self, kind, requests, responses):
            self.records += [(kind, r, o) for r, o in zip(requests, responses, strict=True)]
            return responses

        def loglikelihood(self, requests, disable_tqdm=False):
            return self._record("loglikelihood", requests, super().loglikelihood(requests, True))

        def loglikelihood_rolling(self, requests, disable_tqdm=False):
            return self._record("loglikelihood_rolling", requests, super().loglikelihood_rolling(requests, True))

        def generate_until(self, requests, disable_tqdm=False):
            return self._record("generate_until", requests, super().generate_until(requests, True))

    return Recording


def tokenizer_info(lm):
    tok = lm.tokenizer
    ids = tok.encode("a")
    return {"bos_token": tok.bos_token, "bos_token_id": tok.bos_token_id, "eos_token": tok.eos_token,
            "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id,
            "adds_bos": tok.bos_token_id is not None and ids[:1] == [tok.bos_token_id],
            "prefix_token_id": lm.prefix_token_id,
            "eot_text": lm.tok_decode(lm.eot_token_id, skip_special_tokens=False)}


def request_record(lm, kind, inst, resp):
    from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs

    rec = {"subtask": inst.task_name, "doc_index": inst.doc_id, "idx": inst.idx, "type": kind}
    if kind == "loglikelihood":
        context, continuation = inst.args
        ctx, cont = lm._encode_pair(context, continuation)
        rec.update(context=context, continuation=continuation, context_tokens=ctx,
                   continuation_tokens=cont, loglikelihood=resp[0], is_greedy=bool(resp[1]))
    elif kind == "loglikelihood_rolling":
        (text,) = inst.args
        rec.update(text=text, tokens=lm.tok_encode(text), loglikelihood=resp)
    else:
        context, gen_kwargs = inst.args
        kwargs = normalize_gen_kwargs(dict(gen_kwargs), lm.max_gen_toks)
        eos = lm.tok_decode(lm.eot_token_id, skip_special_tokens=False)
        max_gen = kwargs["max_gen_toks"]
        ids, _ = lm.tok_batch_encode([context], left_truncate_len=lm.max_length - max_gen)
        rec.update(context=context, until=list(gen_kwargs.get("until", [])),
                   stop=handle_stop_sequences(kwargs.get("until"), eos=eos), max_gen_toks=max_gen,
                   context_tokens=ids[0].tolist(), generation=resp)
    return rec


def sample_records(samples):
    """log_samples has one entry per (doc, filter); merged to one per doc."""
    merged = {}
    for subtask, rows in samples.items():
        for s in rows:
            key = (subtask, s["doc_id"])
            m = merged.setdefault(key, {"subtask": subtask, "doc_id": s["doc_id"], "target": s["target"],
                                        "filtered_resps": {}, "metrics": {}})
            m["filtered_resps"][s["filter"]] = s["filtered_resps"]
            for metric in s["metrics"]:
                m["metrics"][f"{metric},{s['filter']}"] = s[metric]
    return [merged[k] for k in sorted(merged)]


def run_one(lm, tm, run, limit):
    task, tasks, k, _ = RUNS[run]
    lm.records.clear()
    gen_kwargs = GSM8K_GEN if task == "gsm8k" else None
    out = evaluate(lm, tm, tasks, k, limit, gen_kwargs=dict(gen_kwargs) if gen_kwargs else None,
                   bootstrap_iters=100000)
    requests = [request_record(lm, kind, inst, resp) for kind, inst, resp in lm.records]
    requests.sort(key=lambda r: (r["subtask"], r["doc_index"], r["idx"]))
    result = {"run": run, "task": task, "num_fewshot": k, "limit": limit, "gen_kwargs": gen_kwargs,
              "requests": requests, "samples": sample_records(out["samples"]),
              "results": out["results"], "n_samples": out.get("n-samples", {})}
    if tasks == ["hellaswag_llamacpp"]:
        result = renamed(result, "hellaswag_llamacpp", "hellaswag")
    if task == "hellaswag":
        raw = tasks == ["hellaswag"]
        result.update(hellaswag_layout="raw" if raw else "llamacpp", data_dir="hf_data" if raw else None)
    else:
        result["data_dir"] = None
    return result


def renamed(result, old, new):
    """The llama.cpp-layout copy of hellaswag.yaml reported under our task name."""
    for key in ("results", "n_samples"):
        result[key] = {new if k == old else k: v for k, v in result[key].items()}
    entry = result["results"].get(new, {})
    for field in ("name", "alias"):
        if entry.get(field) == old:
            entry[field] = new
    for rec in result["requests"] + result["samples"]:
        rec["subtask"] = new if rec["subtask"] == old else rec["subtask"]
    return result


def model_header(lm, model_id, spec):
    import lm_eval
    import transformers

    path = spec["path"] if spec["kind"] == "gguf" else f"models/{model_id}"
    return {"model_id": model_id, "model": {"kind": spec["kind"], "path": path}, "dtype": "float32",
            "device": "cpu", "batch_size": spec["batch_size"], "lm_eval_version": lm_eval.__version__,
            "transformers_version": transformers.__version__, "max_length": lm.max_length,
            "add_bos_token": lm.add_bos_token, "tokenizer": tokenizer_info(lm)}


def export_hellaswag_raw(out_dir):
    import datasets

    val, train = constructed_hellaswag_rows()
    for rows, split in ((val, "validation"), (train, "train")):
        path = out_dir / "hf_data" / "hellaswag" / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_list(rows).to_json(str(path), lines=True)


# SmolLM2's runs cost ~15 min of lm-eval (and ~4 min of the C++ test): they are generated by
# gen_lm_eval_smollm2_slow.py, which scripts/test.sh runs only with --slow.
DEFAULT_MODELS = ("tiny_llama3", "tiny_qwen3")


def generate(out_dir, only=DEFAULT_MODELS):
    offline_quiet()
    out_dir = pathlib.Path(out_dir)
    export_hellaswag_raw(out_dir)
    tm = task_manager()
    index, timings = {}, {}
    for model_id, spec in MODELS.items():
        if only and model_id not in only:
            continue
        t0, c0 = time.time(), time.process_time()
        lm = load_lm(spec, out_dir, model_id)
        timings[model_id] = {"load_s": time.time() - t0, "load_cpu_s": time.process_time() - c0, "runs": {}}
        header = model_header(lm, model_id, spec)
        (out_dir / model_id).mkdir(exist_ok=True)
        index[model_id] = {"model": header["model"], "runs": {}}
        for run in spec["runs"]:
            t0, c0 = time.time(), time.process_time()
            limit = spec["limits"].get(run, RUNS[run][3])
            result = {**header, **run_one(lm, tm, run, limit)}
            text = json.dumps(result, ensure_ascii=False, indent=0, allow_nan=False)
            (out_dir / model_id / f"{run}.json").write_text(text)
            index[model_id]["runs"][run] = f"{model_id}/{run}.json"
            timings[model_id]["runs"][run] = {"s": time.time() - t0, "cpu_s": time.process_time() - c0,
                                              "requests": len(result["requests"])}
            print(f"[lm_eval_model] {model_id}/{run}: {len(result['requests'])} requests, "
                  f"{time.time() - t0:.1f} s", flush=True)
        del lm
    (out_dir / "index.json").write_text(json.dumps(index, indent=1))
    (out_dir / "timings.json").write_text(json.dumps(timings, indent=1))


if __name__ == "__main__":
    import sys

    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    generate(out, only=sys.argv[2].split(",") if len(sys.argv) > 2 else None)
    print(f"{time.time() - t0:.1f} s")
