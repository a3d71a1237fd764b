#!/usr/bin/env python3
"""Fails, listing each offending include, when a module includes a module it must not.

The module map is ../shared/DESIGN.md's: modules lower in the list never include higher ones
that would make them depend on how the higher ones work. Only the rules below are enforced
(modules not named here are free): they are the ones a review found crossed once, and the ones
that keep the low modules low. Run by ctest as ModuleBoundaries; usage: check_boundaries.py [ROOT].
"""
import pathlib
import re
import sys

# module -> modules it must not include (directly; a header it includes is checked in its own
# module).
ABOVE_MODEL = {"calib", "quant", "eval", "profile", "pipeline", "sweep", "score", "report",
               "export", "cli"}
FORBIDDEN = {
    # data/ is shared by calib and eval: it sees core only.
    "data": ABOVE_MODEL | {"config", "io", "tokenizer", "model", "kernels"},
    "core": ABOVE_MODEL | {"data", "config", "io", "tokenizer", "model", "kernels"},
    # config validates keys; task names are checked where tasks are made (pipeline).
    "config": {"eval", "calib", "profile", "pipeline", "sweep", "score", "report", "export", "cli"},
    # io reads files; it never builds a Model.
    "io": ABOVE_MODEL | {"model", "tokenizer", "config"},
    "tokenizer": ABOVE_MODEL | {"model", "config"},
    # model knows no quantized checkpoint format: the pipeline wires them (pipeline/model_open.h).
    "model": ABOVE_MODEL,
    # calib collects statistics for quant; it never sees eval or the methods.
    "calib": {"eval", "quant", "profile", "pipeline", "sweep", "score", "report", "export", "cli"},
    "quant": {"eval", "profile", "pipeline", "sweep", "score", "report", "export", "cli"},
    # eval never sees how a model was quantized.
    "eval": {"calib", "quant", "pipeline", "sweep", "score", "report", "export", "cli"},
    "export": {"eval", "calib", "pipeline", "sweep", "score", "report", "cli"},
    "pipeline": {"sweep", "report", "cli"},
    "score": {"eval", "calib", "quant", "model", "pipeline", "sweep", "export", "cli"},
    "report": {"pipeline", "sweep", "cli"},
    "sweep": {"cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"slmq/([a-z_0-9]+)/')


def module_files(root):
    """(module, path) for every C++ source and header of a module."""
    for base in (root / "src", root / "include" / "slmq"):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in {".h", ".hpp", ".cpp", ".cu", ".cuh"} and path.is_file():
                rel = path.relative_to(base)
                if len(rel.parts) > 1:
                    yield rel.parts[0], path


def violations(root):
    for module, path in module_files(root):
        banned = FORBIDDEN.get(module, set())
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if m and m.group(1) in banned:
                yield f"{path.relative_to(root)}:{number}: {module} must not include {m.group(1)}"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    found = list(violations(root.resolve()))
    for v in found:
        print(v, file=sys.stderr)
    if found:
        print(f"{len(found)} include(s) cross a module boundary (see scripts/check_boundaries.py)",
              file=sys.stderr)
        return 1
    checked = sum(1 for _ in module_files(root.resolve()))
    print(f"module boundaries hold ({checked} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
