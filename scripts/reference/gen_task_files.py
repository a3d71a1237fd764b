"""lm-evaluation-harness 0.4.12 on slmquant's shipped task files: the golden data of
tests/reference/task_file_test.cpp.

lm-eval loads each configs/tasks/fixture_*.yaml as it is (the files use lm-eval's field names and
its Jinja), only dataset_kwargs.data_files made absolute (lm-eval reads them relative to the
working directory, slmquant beside the YAML). The tiny random Llama of gen_lm_eval_model.py
(Llama-3 tokenizer, max_length 256) answers, through HFLM in float32 on the CPU.

Output:
  models/tiny_llama3/   the model folder (the C++ test evaluates the same files)
  runs/<run>.json       {run, task_file (relative to the repository), num_fewshot,
                         requests: as gen_lm_eval_model.request_record (sorted by doc, idx),
                         samples: lm-eval's log_samples merged per doc (metrics "name,filter",
                         filtered_resps), results: lm-eval's results entry of the task}
  index.json            {model: "models/tiny_llama3", runs: {run: "runs/<run>.json"}}
  jinja.json            [{template, doc, output} | {template, doc, error: true}]: lm-eval's own
                        Jinja environment (lm_eval.utils.apply_template) on constructed cases
  filters.json          [{filter {function, regex_pattern, group_select, fallback}, response,
                          output}]: lm-eval's RegexFilter / lowercase / remove_whitespace
  exact_match.json      [{options, prediction, reference, value}]: lm-eval's exact_match
"""
import json
import pathlib

import yaml

from _lm_eval_local import ROOT, offline_quiet, task_manager
from gen_lm_eval_model import MODELS, load_lm, request_record, sample_records

INPUT_PACKAGES = ("lm-eval", "datasets", "transformers", "torch", "tokenizers", "jinja2")
TASKS = ROOT / "configs" / "tasks"

# run -> (task file, num_fewshot)
RUNS = {
    "cloze_0shot": ("fixture_cloze.yaml", 0),
    "cloze_2shot": ("fixture_cloze.yaml", 2),
    "partial_context_0shot": ("fixture_partial_context.yaml", 0),
    "partial_context_2shot": ("fixture_partial_context.yaml", 2),
    "generate_2shot": ("fixture_generate.yaml", 2),
    "rolling": ("fixture_rolling.yaml", 0),
    "mc_csv_2shot": ("fixture_mc_csv.yaml", 2),
}


def input_files():
    files = sorted(TASKS.glob("fixture_*.yaml")) + sorted((TASKS / "data").iterdir())
    return [str(f) for f in files]


def task_config(name):
    path = TASKS / name
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    files = cfg["dataset_kwargs"]["data_files"]
    cfg["dataset_kwargs"]["data_files"] = {s: str(path.parent / f) for s, f in files.items()}
    return cfg


def run_one(lm, tm, run):
    import lm_eval

    file, k = RUNS[run]
    lm.records.clear()
    cfg = task_config(file)
    out = lm_eval.simple_evaluate(model=lm, tasks=[cfg], num_fewshot=k, task_manager=tm,
                                  log_samples=True, bootstrap_iters=1000)
    requests = [request_record(lm, kind, inst, resp) for kind, inst, resp in lm.records]
    requests.sort(key=lambda r: (r["doc_index"], r["idx"]))
    return {"run": run, "task_file": f"configs/tasks/{file}", "num_fewshot": k,
            "requests": requests, "samples": sample_records(out["samples"]),
            "results": out["results"][cfg["task"]]}


JINJA_DOC = {"question": "  Who  wrote  it?\n", "text": "the quick brown fox jumps", "n": 3,
             "choices": {"text": ["red", "Green", "BLUE"], "label": ["A", "B", "C"]},
             "answerKey": "B", "answer": "2", "sentence": "Tom gave _ the book.", "o1": "Ann",
             "words": ["a", "b", "c", "d"], "uni": "Ça Été ǅ straße", "flag": True, "none": None,
             "num": 2.5, "quote": "it's \"x\""}
JINJA_CASES = [
    "Question: {{question}}\nAnswer:", "{{question.strip()}}", "{{question|trim}}",
    "{{question.lstrip()}}|{{question.rstrip()}}", "{{text.split(' ')[:-1]|join(' ')}}",
    "{{' '+text.split(' ')[-1]}}", "{{text.split()[1:3]}}", "{{text[4:9]}}", "{{text[-3:]}}",
    "{{choices.label.index(answerKey)}}", "{{choices.text}}", "{{choices['text'][0]}}",
    "{{choices.text|join(', ')}}", "{{answer|int - 1}}", "{{n + 1}}", "{{n ~ 'x'}}",
    "{{sentence.split('_')[0] + o1}}", "{{sentence.split('_')[1].strip()}}",
    "{{[sentence.split('_')[0] + o1, 'x']}}", "{{uni.lower()}}", "{{uni|upper}}",
    "{{words|length}} {{text|length}}", "{{words|first}}{{words|last}}",
    "{{text.replace('o', '0')}}", "{{text|replace('the ', '')}}",
    "{{text|regex_replace('[aeiou]', '*')}}", "{{flag}} {{none}} {{num}}", "{{quote}}",
    "{{[quote, 'a']}}", "{{n|string + '!'}}", "{{(n + 2) ~ ''}}", "{{ text.upper() }}",
    "{{missing}}", "{{choices.nothing}}", "{{words[9]}}", "{{choices.label.index('Z')}}",
]

REGEX_FILTERS = [
    {"function": "regex", "regex_pattern": r"#### (\-?[0-9\.\,]+)", "group_select": 0},
    {"function": "regex", "regex_pattern": r"(-?[$0-9.,]{2,})|(-?[0-9]+)", "group_select": -1},
    {"function": "regex", "regex_pattern": r"\s*(\S+)", "group_select": 0, "fallback": "none"},
    {"function": "regex", "regex_pattern": r"[A-D]", "group_select": 1},
    {"function": "lowercase"}, {"function": "remove_whitespace"},
]
RESPONSES = ["The answer is 12.\n#### 12", " 3 + 4 = 7 so 7", "no digits here", "  ", "",
             "#### -1,000.5 and #### 3", "Answer: B or C", "ÉCOLE 5"]

EXACT_MATCH = [
    ({}, "5", "5"), ({}, "5", "5.0"), ({"ignore_case": True}, "Paris", "paris"),
    ({"ignore_punctuation": True}, "it's!", "its"), ({"ignore_numbers": True}, "a1b2", "ab"),
    ({"regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"], "ignore_case": True},
     "$1,000.", "so\n#### 1000"),
    ({"regexes_to_ignore": ["\\s+"]}, " a b ", "ab"),
]


def template_goldens():
    from lm_eval.utils import apply_template

    out = []
    for t in JINJA_CASES:
        try:
            out.append({"template": t, "doc": JINJA_DOC, "output": apply_template(t, JINJA_DOC)})
        except Exception:  # noqa: BLE001 - any Jinja failure is an expected error case
            out.append({"template": t, "doc": JINJA_DOC, "error": True})
    return out


def filter_goldens():
    from lm_eval.filters.extraction import RegexFilter, WhitespaceFilter
    from lm_eval.filters.transformation import LowercaseFilter

    out = []
    for spec in REGEX_FILTERS:
        if spec["function"] == "regex":
            f = RegexFilter(spec["regex_pattern"], spec["group_select"], spec.get("fallback", "[invalid]"))
        else:
            f = LowercaseFilter() if spec["function"] == "lowercase" else WhitespaceFilter()
        for resp in RESPONSES:
            try:
                value = list(f.apply([[resp]], None))[0][0]
            except IndexError:  # group_select beyond the matches: Python raises
                value = None
            out.append({"filter": spec, "response": resp, "output": value})
    return out


def exact_match_goldens():
    from lm_eval.api.metrics import exact_match_hf_evaluate

    return [{"options": o, "prediction": p, "reference": r,
             "value": float(exact_match_hf_evaluate(predictions=[p], references=[r], **o)["exact_match"])}
            for o, p, r in EXACT_MATCH]


def generate(out_dir):
    offline_quiet()
    out_dir = pathlib.Path(out_dir)
    write = lambda name, obj: (out_dir / name).write_text(json.dumps(obj, indent=1, ensure_ascii=False),
                                                          encoding="utf-8")
    write("jinja.json", template_goldens())
    write("filters.json", filter_goldens())
    write("exact_match.json", exact_match_goldens())
    lm = load_lm(MODELS["tiny_llama3"], out_dir, "tiny_llama3")
    tm = task_manager()
    (out_dir / "runs").mkdir()
    index = {"model": "models/tiny_llama3", "runs": {}}
    for run in RUNS:
        write(f"runs/{run}.json", run_one(lm, tm, run))
        index["runs"][run] = f"runs/{run}.json"
    write("index.json", index)


if __name__ == "__main__":
    import sys

    generate(sys.argv[1])
