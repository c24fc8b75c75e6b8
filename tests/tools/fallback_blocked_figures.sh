#!/bin/bash
# Figures for the "UDP blocked" fallback (issue 10): runs each case of
# integration_fallback_blocked_test RUNS times (default 10) and prints, per
# case, the time to register over http2 (blocked from the start) or the
# longest gap between successful requests and the failed requests (blocked
# mid-run), with min / median / max. The cases need CAP_NET_ADMIN, `ip` and
# `nft` (network namespaces); each case stops every process it started.
# Usage: fallback_blocked_figures.sh BUILD_DIR [RUNS]
set -eu
build=${1:?usage: $0 BUILD_DIR [RUNS]}
runs=${2:-10}
binary="$build/tests/bin/integration_fallback_blocked_test"
[ -x "$binary" ] || { echo "no $binary: build the target integration_fallback_blocked_test" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

summary() {  # NAME, then numbers on stdin
  sort -n | awk -v name="$1" '{ v[NR] = $1 } END {
    if (NR == 0) { printf "%-34s no figures\n", name; exit }
    printf "%-34s n=%d  min %d  median %d  max %d\n", name, NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
}

"$binary" --list-test-names-only | grep '^fallback:' | while read -r name; do
  echo "== $name"
  : > "$out"
  failed_runs=0
  for i in $(seq "$runs"); do
    if ! "$binary" "$name" >> "$out" 2>&1; then failed_runs=$((failed_runs + 1)); fi
  done
  if grep -q 'registered over http2' "$out"; then
    grep -o 'registered over http2 [0-9]* ms' "$out" | awk '{print $4}' | summary "  ms to register over http2"
  else
    grep -o 'after [0-9]* ms;' "$out" | awk '{print $2}' | summary "  ms until both legs on http2"
    grep -o 'longest gap [0-9]* ms' "$out" | awk '{print $3}' | summary "  longest gap (ms)"
    grep -o '[0-9]* of [0-9]* requests failed' "$out" | awk '{print $1}' | summary "  failed requests"
  fi
  echo "  runs that failed: $failed_runs of $runs"
done
