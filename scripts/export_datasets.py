#!/usr/bin/env python3
"""Export the HF hub datasets lm-eval reads into the HF-schema JSONL layouts slmquant loads.

Needs network access and the `datasets` package (in .venv with lm-eval). Writes under DEST
(default: $SLMQ_DATA_DIR or assets/data), next to the layouts of data/SOURCES.md:

  arc/ARC-{Easy,Challenge}-{train,validation,test}.jsonl   allenai/ai2_arc
  mmlu/hf/<subject>/{test,dev}.jsonl                        cais/mmlu (one config per subject)
  piqa/{train,validation}.jsonl                             baber/piqa
  gsm8k/{train,test}.jsonl                                  openai/gsm8k, config main
  wikitext2/document_level/test.jsonl                       EleutherAI/wikitext_document_level
  wikitext2/wikitext-2-raw-v1/test.jsonl                    Salesforce/wikitext (rows: the token
                                                            perplexity's "\n\n"-joined corpus)
  hellaswag/{train,validation}.jsonl                        Rowan/hellaswag (raw rows: lm-eval's
                                                            preprocessing then applies exactly)

Rows are written by `Dataset.to_json` in split order. Where an original layout is also present
(MMLU CSVs, PIQA dev.jsonl + labels) slmquant reads the original; the HF files are what it reads
when those are absent, and the only source of HellaSwag raw rows and PIQA train.

Usage: scripts/export_datasets.py [DEST] [--only arc,mmlu,...]
"""
import argparse
import os
import pathlib


def write(ds, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_json(str(path), lines=True, force_ascii=False)
    print(f"{path}: {len(ds)} rows")


def export_arc(load, dest):
    for config in ("ARC-Easy", "ARC-Challenge"):
        dd = load("allenai/ai2_arc", config)
        for split in ("train", "validation", "test"):
            write(dd[split], dest / "arc" / f"{config}-{split}.jsonl")


def export_mmlu(load, dest):
    import datasets

    subjects = [c for c in datasets.get_dataset_config_names("cais/mmlu") if c not in ("all", "auxiliary_train")]
    for subject in subjects:
        dd = load("cais/mmlu", subject)
        for split in ("test", "dev"):
            write(dd[split], dest / "mmlu" / "hf" / subject / f"{split}.jsonl")


def export_piqa(load, dest):
    dd = load("baber/piqa", None)
    for split in ("train", "validation"):
        write(dd[split], dest / "piqa" / f"{split}.jsonl")


def export_gsm8k(load, dest):
    dd = load("openai/gsm8k", "main")
    for split in ("train", "test"):
        write(dd[split], dest / "gsm8k" / f"{split}.jsonl")


def export_wikitext(load, dest):
    dd = load("EleutherAI/wikitext_document_level", "wikitext-2-raw-v1")
    write(dd["test"], dest / "wikitext2" / "document_level" / "test.jsonl")
    rows = load("Salesforce/wikitext", "wikitext-2-raw-v1")
    write(rows["test"], dest / "wikitext2" / "wikitext-2-raw-v1" / "test.jsonl")


def export_hellaswag(load, dest):
    dd = load("Rowan/hellaswag", None)
    for split in ("train", "validation"):
        write(dd[split], dest / "hellaswag" / f"{split}.jsonl")


EXPORTS = {"arc": export_arc, "mmlu": export_mmlu, "piqa": export_piqa, "gsm8k": export_gsm8k,
           "wikitext": export_wikitext, "hellaswag": export_hellaswag}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", nargs="?", default=os.environ.get("SLMQ_DATA_DIR", "assets/data"))
    parser.add_argument("--only", default=",".join(EXPORTS), help="comma-separated: " + ",".join(EXPORTS))
    args = parser.parse_args()
    import datasets

    def load(path, name):
        return datasets.load_dataset(path, name)

    dest = pathlib.Path(args.dest)
    for name in args.only.split(","):
        if name not in EXPORTS:
            parser.error(f"unknown dataset '{name}'")
        EXPORTS[name](load, dest)


if __name__ == "__main__":
    main()
