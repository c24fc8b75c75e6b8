#!/usr/bin/env bash
# Configures and builds warren into ./build (or $WARREN_BUILD_DIR).
#   scripts/build.sh            everything, tests included
#   scripts/build.sh TARGET…    only those (e.g. warren-bundle: warren + bundled plugins)
# Warnings are errors in CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_BUILD_DIR:-$root/build}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARREN_WERROR="$werror"
fi
targets=()
[ $# -gt 0 ] && targets=(--target "$@")
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
