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
# CI builds everything twice (this build, then the sanitized one of
# scripts/test-sanitize.sh) within its time and keeps no binary: there its
# -O2 goes without -g, which is about 30 % of the compile time.
ci_flags=()
[ "${CI:-}" = "true" ] && ci_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG")
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARREN_WERROR="$werror" "${ci_flags[@]}"
fi
targets=()
[ $# -gt 0 ] && targets=(--target "$@")
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
