"""Runs one reference generator into OUT_DIR/<name>/ unless its output is up to date.

A generator is up to date when the hash of its own source and of the Python packages it reports
in `INPUT_PACKAGES` and of the data files it lists in `INPUT_FILES` matches the stamp written after its last successful run. Output is written to
a temporary folder and renamed into place, so an interrupted run never leaves half a data set.
"""
import hashlib
import importlib.metadata
import importlib.util
import pathlib
import shutil
import sys
import time


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fingerprint(path, module):
    h = hashlib.sha256(path.read_bytes())
    for helper in sorted(path.parent.glob("_*.py")):
        h.update(helper.read_bytes())
    for pkg in getattr(module, "INPUT_PACKAGES", ()):
        h.update(f"{pkg}={importlib.metadata.version(pkg)}".encode())
    for data_file in getattr(module, "INPUT_FILES", ()):
        h.update(pathlib.Path(data_file).read_bytes())
    return h.hexdigest()


def main():
    gen_path = pathlib.Path(sys.argv[1]).resolve()
    out_root = pathlib.Path(sys.argv[2])
    name = gen_path.stem.removeprefix("gen_")
    sys.path.insert(0, str(gen_path.parent))
    module = load(gen_path)
    stamp = fingerprint(gen_path, module)
    out_dir = out_root / name
    stamp_file = out_dir / ".stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        print(f"[reference] {name}: up to date", file=sys.stderr)
        return
    tmp = out_root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.time()
    module.generate(tmp)
    (tmp / ".stamp").write_text(stamp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    print(f"[reference] {name}: generated in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
