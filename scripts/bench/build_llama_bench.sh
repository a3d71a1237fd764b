#!/usr/bin/env bash
# Builds llama.cpp's llama-bench, llama-quantize and llama-perplexity from the source that PyPI's
# llama-cpp-python source distribution vendors, for the side-by-side benchmark
# (scripts/bench/side_by_side.py) and the GGUF export comparison (scripts/bench/gguf_vs_llama_cpp.py).
# llama.cpp is not a dependency of slmquant: everything lives in a cache outside the repository.
#
#   scripts/bench/build_llama_bench.sh [--version 0.3.36] [--cache DIR] [--jobs N]
#
# Prints the directory holding bin/llama-bench, bin/llama-quantize and bin/llama-perplexity on its
# last line.
# Native CPU flags (GGML_NATIVE) so llama.cpp uses every instruction set this machine has.
set -euo pipefail

version=""
cache="${SLMQ_LLAMA_CACHE:-$HOME/.cache/slmquant/llama.cpp}"
jobs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --cache) cache="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pip="$here/.venv/bin/pip"
[[ -x "$pip" ]] || pip="pip"
mkdir -p "$cache"
cd "$cache"

spec="llama-cpp-python${version:+==$version}"
sdist="$(ls -1 llama_cpp_python-${version:-*}.tar.gz 2>/dev/null | sort -V | tail -n1 || true)"
if [[ -z "$sdist" ]]; then
  "$pip" download --no-binary :all: --no-deps "$spec" -d . >&2
  sdist="$(ls -1 llama_cpp_python-${version:-*}.tar.gz | sort -V | tail -n1)"
fi
ver="${sdist#llama_cpp_python-}"
ver="${ver%.tar.gz}"
src="$cache/src-$ver"
if [[ ! -d "$src/vendor/llama.cpp" ]]; then
  rm -rf "$src.tmp" && mkdir -p "$src.tmp"
  tar -xzf "$sdist" -C "$src.tmp" --strip-components=1
  mv "$src.tmp" "$src"
fi

out="$cache/build-$ver"
if [[ ! -x "$out/bin/llama-bench" || ! -x "$out/bin/llama-quantize" || ! -x "$out/bin/llama-perplexity" ]]; then
  cmake -S "$src/vendor/llama.cpp" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DBUILD_SHARED_LIBS=OFF >&2
  cmake --build "$out" -j "$jobs" --target llama-bench llama-quantize llama-perplexity >&2
fi
echo "$out"
