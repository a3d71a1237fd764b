#!/usr/bin/env bash
# One-command set-up for a fresh machine: system packages, the project venv (torch and the Python
# reference packages), reference assets, then a Release build with ccache. Idempotent: a second run
# only rebuilds what changed.
#
# Where a python3 that already has torch is present and no package registry is reachable (the GPU
# test machines), run with SLMQ_OFFLINE=1: nothing is installed and .deps/root (see
# scripts/fetch_offline_deps.sh) supplies the C++ libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

TORCH_VERSION=2.11.0
# One package per line; PY_IMPORTS are their import names, checked to decide whether to install.
PY_PACKAGES=(
  "torch==${TORCH_VERSION}"
  "transformers==5.17.0"
  "tokenizers"
  "safetensors"
  "numpy"
  "gguf==0.19.0"
  "jsonschema"
  "compressed-tensors==0.20.0"
  "lm-eval==0.4.12"
  "accelerate==1.15.0"
  "scipy"
  "loguru"
)
PY_IMPORTS="transformers, tokenizers, safetensors, numpy, gguf, jsonschema, compressed_tensors, lm_eval, accelerate, scipy, llmcompressor"
# llm-compressor (the SpinQuantModifier reference) pins an older compressed-tensors; installed
# without its dependencies it works with the pinned one above (its other requirements are here).
PY_NO_DEPS=("llmcompressor==0.14.0.1")

install_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}" "${FUZZ_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_packages() {
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    python3 -m venv .venv
  fi
  if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '${TORCH_VERSION}')" 2>/dev/null \
     || ! .venv/bin/python -c "import ${PY_IMPORTS}" 2>/dev/null; then
    log "installing Python packages into .venv (torch ${TORCH_VERSION} and the reference packages)"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q "${PY_PACKAGES[@]}"
    .venv/bin/pip install -q --no-deps "${PY_NO_DEPS[@]}"
  fi
}

if [ "${SLMQ_OFFLINE:-0}" = "1" ]; then
  log "offline mode: using $(command -v python3) and .deps/root; installing nothing"
  export SLMQ_PYTHON="$(command -v python3)"
else
  install_system_packages
  install_python_packages
  export SLMQ_PYTHON="$PWD/.venv/bin/python"
fi

# Benchmark data and real tokenizers: ../shared/data beside the checkout (SLMQ_SHARED_DATA overrides).
shared_data="${SLMQ_SHARED_DATA:-../shared/data}"
if [ -x "$shared_data/unpack.sh" ]; then
  "$shared_data/unpack.sh" assets/data >/dev/null
else
  log "no shared data at $shared_data: data-dependent tests will fail"
fi
"$SLMQ_PYTHON" scripts/make_assets.py
build_project
log "done: try 'build/slmquant run configs/demo.yaml'"
