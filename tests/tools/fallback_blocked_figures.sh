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
    if ! "$binary" "$name" < /dev/null >> "$out" 2>&1; then failed_runs=$((failed_runs + 1)); fi
  done
  # Catch2 wraps its warnings at 80 columns: one line, single spaces.
  text=$(tr -s ' \n' '  ' < "$out")
  if grep -q 'registered over http2' <<< "$text"; then
    grep -o 'registered over http2 [0-9]* ms' <<< "$text" | awk '{print $4}' | summary "  ms to the first leg on http2"
    grep -o 'started, both [0-9]* ms' <<< "$text" | awk '{print $3}' | summary "  ms to both legs on http2"
  else
    grep -o 'http2 after [0-9]* ms;' <<< "$text" | awk '{print $3}' | summary "  ms until both legs on http2"
    grep -o 'longest gap [0-9]* ms' <<< "$text" | awk '{print $3}' | summary "  longest gap (ms)"
    grep -o '[0-9]* of [0-9]* requests failed' <<< "$text" | awk '{print $1}' | summary "  failed requests"
  fi
  echo "  runs that failed: $failed_runs of $runs"
done
