"""Runs one reference generator into OUT_DIR/<name>/ unless its output is up to date.

A generator is up to date when the hash of its own source, of the helper modules beside it that
it imports at top level (`_*.py`), of the Python packages it reports in `INPUT_PACKAGES` and of
the files its optional `input_files()` lists (path, size, mtime) matches the stamp written after
its last successful run. Output is written to a temporary folder and renamed into place, so an
interrupted run never leaves half a data set.
"""
import hashlib
import importlib.metadata
import importlib.util
import pathlib
import shutil
import sys
import time


def load(path):
    """The generator module, and the helper files beside it that loading it imported."""
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    helpers = set()
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None)
        if file and pathlib.Path(file).resolve().parent == path.parent:
            helpers.add(pathlib.Path(file).resolve())
    return module, sorted(helpers)


def fingerprint(path, module, helpers):
    h = hashlib.sha256(path.read_bytes())
    for helper in helpers:
        h.update(helper.read_bytes())
    for pkg in getattr(module, "INPUT_PACKAGES", ()):
        h.update(f"{pkg}={importlib.metadata.version(pkg)}".encode())
    # Optional `input_files()`: data files whose change (or appearance) must regenerate.
    for name in getattr(module, "input_files", lambda: ())():
        p = pathlib.Path(name)
        st = p.stat() if p.exists() else None
        h.update(f"{p}:{st.st_size if st else -1}:{st.st_mtime_ns if st else -1}".encode())
    return h.hexdigest()


def main():
    gen_path = pathlib.Path(sys.argv[1]).resolve()
    out_root = pathlib.Path(sys.argv[2])
    name = gen_path.stem.removeprefix("gen_")
    sys.path.insert(0, str(gen_path.parent))
    module, helpers = load(gen_path)
    stamp = fingerprint(gen_path, module, helpers)
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
