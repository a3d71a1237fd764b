#!/usr/bin/env bash
# Runs libFuzzer targets (fuzz/README.md).
#   scripts/fuzz.sh TARGET SECONDS     one target for SECONDS (corpus kept in build-fuzz/corpus/);
#                                      0 only replays the seeds and fuzz/regressions/ once
#   scripts/fuzz.sh TARGET brief       the seeds and fuzz/regressions/ replayed, then a fixed number
#                                      of mutations (brief_runs below) from a fixed seed: the same
#                                      inputs run on every machine, so CI cannot turn red by chance
#   scripts/fuzz.sh --all SECONDS|brief  every target in turn (scripts/test.sh runs --all brief)
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
  echo "usage: scripts/fuzz.sh TARGET|--all SECONDS|brief  (targets: $(targets | tr '\n' ' '))" >&2
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

# Executions of the brief run (seed inputs included), per target: about 10 s each on one core
# of the 2-core AVX2 dev box, measured from its exec/s on the seeds (fuzz/README.md).
brief_runs() {
  case "$1" in
    dataset_csv) echo 70000 ;;
    dataset_jsonl) echo 40000 ;;
    dataset_text) echo 40000 ;;
    gguf) echo 5000 ;;
    gguf_dequant) echo 600000 ;;
    result_file) echo 25000 ;;
    tokenizer_json) echo 6000 ;;
    tokenizer_encode) echo 2500 ;;
    safetensors) echo 90000 ;;
    compressed_tensors_config) echo 50000 ;;
    run_config) echo 17000 ;;
    *) echo 10000 ;;
  esac
}

# The committed inputs of a target: hand-made seeds, minimised past findings (run with every
# corpus input, so a regression fails) and the cut seeds of build-fuzz/seeds.
input_dirs() {
  local target="$1" d
  for d in "$FUZZ_DIR/seeds/$target" "fuzz/seeds/$target" "fuzz/regressions/$target"; do
    [ -d "$d" ] && echo "$d"
  done
}

run_target() {
  local target="$1" artifacts="$FUZZ_DIR/artifacts/$1/"
  mkdir -p "$artifacts" "$FUZZ_DIR/seeds/$target"
  local dirs budget launcher=()
  if [ "$seconds" = "brief" ]; then
    # A fresh, empty output corpus and the inputs as one sorted list: libFuzzer orders equal-size
    # inputs as the directory lists them, which differs between file systems.
    local corpus="$FUZZ_DIR/brief-corpus/$target" list="$FUZZ_DIR/brief-corpus/$target.inputs"
    rm -rf "$corpus" && mkdir -p "$corpus"
    # shellcheck disable=SC2046
    find $(input_dirs "$target") -type f ! -name '.*' | LC_ALL=C sort | paste -sd, - > "$list"
    dirs=("$corpus")
    [ -s "$list" ] && dirs=(-seed_inputs="@$list" "$corpus")
    # Fixed: the seed, the number of runs, and what else steers the mutations: no timed reload
    # of the output corpus (-reload=0), no comparison operands (-use_cmp=0: they include heap
    # addresses), no address randomisation and a scratch path without the PID.
    budget=(-seed=1 -runs="$(brief_runs "$target")" -reload=0 -use_cmp=0)
    # The same stack layout whatever the caller's environment, and no address randomisation:
    # libFuzzer's stack-depth feature moves with both.
    local scratch="$FUZZ_DIR/brief-scratch/$target"
    rm -rf "$scratch"
    launcher=(env -i PATH=/usr/bin:/bin SLMQ_FUZZ_SCRATCH="$scratch")
    setarch "$(uname -m)" -R true 2>/dev/null && launcher+=(setarch "$(uname -m)" -R)
    log "fuzzing $target briefly: $(brief_runs "$target") runs from seed 1"
  else
    local corpus="$FUZZ_DIR/corpus/$target"
    mkdir -p "$corpus"
    # shellcheck disable=SC2046
    dirs=("$corpus" $(input_dirs "$target"))
    budget=(-max_total_time="$seconds")
    [ "$seconds" = "0" ] && budget=(-runs=0)
    log "fuzzing $target for ${seconds} s"
  fi
  # -malloc_limit_mb: no input of at most max_len bytes justifies one allocation that large.
  # shellcheck disable=SC2086
  "${launcher[@]}" "$FUZZ_DIR/fuzz_$target" "${budget[@]}" -timeout="${SLMQ_FUZZ_TIMEOUT:-10}" \
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
