#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test.
# Works on a fresh Debian 12 machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh"
start=$(date +%s)
"$root/scripts/build.sh"
echo "build: $(( $(date +%s) - start ))s"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 300
