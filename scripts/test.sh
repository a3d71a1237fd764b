#!/usr/bin/env bash
# The test command: incremental build, reference data from the Python reference implementations
# (scripts/reference/gen_*.py, each skipped when its inputs are unchanged), then the GoogleTest
# suite through ctest, in parallel. Tests labelled `slow` (gtest suite or test names ending in
# "Slow", each over ~60 s on one thread) and the generators only they read (gen_*_slow.py) are left
# out unless the first argument is --slow. Other arguments go to ctest (e.g. -R Safetensors).
# Without ctest arguments, every fuzz target then runs briefly and deterministically (scripts/fuzz.sh
# TARGET brief), or for SLMQ_FUZZ_SECONDS each when that is set.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

label_args=(-LE slow)
slow=0
if [ "${1:-}" = "--slow" ]; then
  label_args=()
  slow=1
  shift
fi

if [ -z "${SLMQ_PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then SLMQ_PYTHON="$PWD/.venv/bin/python"; else SLMQ_PYTHON="$(command -v python3)"; fi
fi
export SLMQ_PYTHON
scripts/check_format.sh
build_project

export SLMQ_REFERENCE_DIR="$PWD/reference-data"
for gen in scripts/reference/gen_*.py; do
  [ -e "$gen" ] || continue
  # gen_*_slow.py feed only slow tests.
  if [[ "$gen" == *_slow.py && $slow -eq 0 ]]; then continue; fi
  "$SLMQ_PYTHON" scripts/reference/run_generator.py "$gen" "$SLMQ_REFERENCE_DIR"
done

# One OpenMP thread per test process: ctest runs them in parallel, and spinning threads that
# oversubscribe the cores slow every test down.
export OMP_NUM_THREADS=1
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" "${label_args[@]}" "$@")

# Every fuzz target briefly, only with the whole suite (no ctest arguments): the seeds and past
# findings (fuzz/regressions/) replayed, then a fixed number of mutations from a fixed seed
# (scripts/fuzz.sh TARGET brief), so that a reader that crashes on its seeds or their first
# mutations fails CI, while a landing cannot turn CI red by a random find: every run executes the
# same inputs. SLMQ_FUZZ_SECONDS=N fuzzes each target for N s instead (random, timed; 0: replay
# only); long runs are scripts/fuzz.sh TARGET SECONDS.
fuzz_budget="${SLMQ_FUZZ_SECONDS:-brief}"
if [ $# -eq 0 ]; then
  if command -v "${SLMQ_FUZZ_CXX:-clang++}" >/dev/null; then
    scripts/fuzz.sh --all "$fuzz_budget"
  else
    log "fuzz targets skipped: no clang++ (scripts/setup.sh installs it)"
  fi
fi
