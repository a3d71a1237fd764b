#!/usr/bin/env bash
# For machines without a package registry (our GPU test machines: torch, nvcc, CMake and ninja,
# but no apt). Run this on a connected Debian 12 / Ubuntu x86-64 machine from the repository
# root: it downloads the Debian packages slmquant builds against and unpacks them into
# .deps/root (git-ignored). Copy the tree, .deps included, to the GPU machine and build there with
#   SLMQ_OFFLINE=1 scripts/setup.sh      # or scripts/test.sh
# CMake (third_party/offline_deps.cmake) then finds headers, libraries and pkg-config files under
# .deps/root, and the binaries find the shared libraries through their RPATH.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  libcli11-dev nlohmann-json3-dev
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
  libyaml-cpp-dev libyaml-cpp0.7
  libgtest-dev libgmock-dev googletest
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
  libutf8proc-dev libutf8proc2
  pkgconf pkgconf-bin libpkgconf3
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${PACKAGES[@]}")
rm -rf .deps/root.tmp
mkdir -p .deps/root.tmp
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" .deps/root.tmp; done
rm -rf .deps/root
mv .deps/root.tmp .deps/root
echo "unpacked ${#PACKAGES[@]} packages into .deps/root ($(du -sh .deps/root | cut -f1))"
