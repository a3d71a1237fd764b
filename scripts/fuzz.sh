#!/usr/bin/env bash
# Runs libFuzzer targets (fuzz/README.md).
#   scripts/fuzz.sh TARGET SECONDS     one target for SECONDS (corpus kept in build-fuzz/corpus/);
#                                      0 only replays the seeds and fuzz/regressions/ once
#   scripts/fuzz.sh --all SECONDS      every target in turn (what scripts/test.sh runs, briefly)
#   scripts/fuzz.sh --list             the targets
# Builds build-fuzz/ with clang first (incremental). A finding (crash, sanitizer report, an
# exception other than the typed user errors, an allocation over the limit, an input slower than
# SLMQ_FUZZ_TIMEOUT seconds) stops the target, saves the input under build-fuzz/artifacts/TARGET/
# and makes the script fail. Extra libFuzzer flags: SLMQ_FUZZ_FLAGS (e.g. "-jobs=2 -workers=2").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

FUZZ_DIR="${FUZZ_BUILD_DIR:-build-fuzz}"
targets() { find fuzz -maxdepth 1 -name '*_fuzz.cpp' -printf '%f\n' | sed 's/_fuzz\.cpp$//' | sort; }

if [ "${1:-}" = "--list" ]; then targets; exit 0; fi
if [ $# -ne 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET|--all SECONDS  (targets: $(targets | tr '\n' ' '))" >&2
  exit 2
fi
which_targets="$1"
seconds="$2"

build_fuzz() {
  export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
  export CCACHE_BASEDIR="$PWD"
  if [ ! -f "$FUZZ_DIR/build.ninja" ]; then
    log "configuring $FUZZ_DIR (clang, libFuzzer + ASan + UBSan)"
    cmake -S . -B "$FUZZ_DIR" -G Ninja -DSLMQ_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_COMPILER="${SLMQ_FUZZ_CC:-clang}" -DCMAKE_CXX_COMPILER="${SLMQ_FUZZ_CXX:-clang++}" >/dev/null
  fi
  log "building $FUZZ_DIR"
  cmake --build "$FUZZ_DIR" -j "$(nproc)"
}

# Seeds: the committed hand-made ones (fuzz/seeds/TARGET) and those cut from the real files
# (scripts/fuzz_seeds.py, rebuilt when the script changes).
make_seeds() {
  local stamp="$FUZZ_DIR/seeds/.stamp" python="${SLMQ_PYTHON:-.venv/bin/python}"
  [ -x "$python" ] || python="$(command -v python3)"
  if [ ! -f "$stamp" ] || [ scripts/fuzz_seeds.py -nt "$stamp" ]; then
    rm -rf "$FUZZ_DIR/seeds"
    "$python" scripts/fuzz_seeds.py "$FUZZ_DIR/seeds" "${SLMQ_DATA_DIR:-assets/data}"
    touch "$stamp"
  fi
}

run_target() {
  local target="$1" corpus="$FUZZ_DIR/corpus/$1" artifacts="$FUZZ_DIR/artifacts/$1/"
  mkdir -p "$corpus" "$artifacts" "$FUZZ_DIR/seeds/$target"
  local dirs=("$corpus" "$FUZZ_DIR/seeds/$target")
  [ -d "fuzz/seeds/$target" ] && dirs+=("fuzz/seeds/$target")
  # Minimised inputs of past findings: run first, with every corpus input, so a regression fails.
  [ -d "fuzz/regressions/$target" ] && dirs+=("fuzz/regressions/$target")
  local budget=(-max_total_time="$seconds")
  [ "$seconds" = "0" ] && budget=(-runs=0)
  log "fuzzing $target for ${seconds} s"
  # -malloc_limit_mb: no input of at most max_len bytes justifies one allocation that large.
  # shellcheck disable=SC2086
  "$FUZZ_DIR/fuzz_$target" "${budget[@]}" -timeout="${SLMQ_FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb=2560 -malloc_limit_mb=512 -max_len="${SLMQ_FUZZ_MAX_LEN:-262144}" \
    -report_slow_units=1 -print_final_stats=1 -artifact_prefix="$artifacts" \
    ${SLMQ_FUZZ_FLAGS:-} "${dirs[@]}"
}

build_fuzz
make_seeds
if [ "$which_targets" = "--all" ]; then
  for t in $(targets); do run_target "$t"; done
else
  [ -f "fuzz/${which_targets}_fuzz.cpp" ] || { echo "no fuzz target '$which_targets'" >&2; exit 2; }
  run_target "$which_targets"
fi
