# Shared by scripts/setup.sh, scripts/test.sh and scripts/fetch_offline_deps.sh.
APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3-venv clang-format
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libpcre2-dev libutf8proc-dev
  chromium
)
# The fuzz build (scripts/fuzz.sh): clang and its libFuzzer runtime. Installed by setup.sh, not
# fetched for the offline GPU machines, which do not fuzz.
FUZZ_APT_PACKAGES=(clang libclang-rt-14-dev)

log() { printf '[setup] %s\n' "$*" >&2; }

# Configure (once) and build in Release with ccache; BUILD_DIR defaults to build/.
build_project() {
  local build_dir="${BUILD_DIR:-build}"
  export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
  # Paths relative to the checkout, so a fresh clone elsewhere (CI) hits the same cache entries.
  export CCACHE_BASEDIR="$PWD"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  if [ ! -f "$build_dir/build.ninja" ]; then
    log "configuring $build_dir"
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${SLMQ_PYTHON:+-DSLMQ_PYTHON="$SLMQ_PYTHON"} \
      ${SLMQ_CMAKE_ARGS:-} >/dev/null
  fi
  log "building $build_dir ($(nproc) jobs)"
  cmake --build "$build_dir" -j "$(nproc)"
}
