#!/bin/bash
# Figures for issue 11, item 1: edge SIGKILL + restart on the same port and
# state_dir, N trials (default 20) for each of integration_restart_test's two
# restart cases (a plain restart; the UDP port held meanwhile, so no ICMP).
# Per trial: ms from the new edge being back (it printed its listen, admin
# and pin lines) to the first tunnelled echo that comes back
# whole, with the connector's lines saying how each leg was lost; then
# p50 / p99. WARREN_TEST_BINARY=OTHER/bin/warren measures another build's
# `warren` (an older main's) with this build's test.
# Usage: edge_restart_figures.sh BUILD_DIR [N]
set -eu
build=${1:?usage: $0 BUILD_DIR [N]}
trials=${2:-20}
binary="$build/tests/bin/integration_restart_test"
[ -x "$binary" ] || { echo "no $binary: build the target integration_restart_test" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

echo "warren: ${WARREN_TEST_BINARY:-$build/bin/warren}"
status=0
for case in "edge SIGKILL and restart: *" "edge SIGKILL and restart with its UDP port held*"; do
  echo "== $case"
  WARREN_RESTART_TRIALS=$trials "$binary" "$case" < /dev/null > "$out" 2>&1 || status=$?
  # Catch2 wraps its warnings at 80 columns: one line, single spaces.
  text=$(tr -s ' \n' '  ' < "$out")
  grep -o 'restart trial [0-9]*: [0-9]* ms' <<< "$text" | tr '\n' ' ' | fold -s -w 100; echo
  echo "how legs were lost (connector lines, all trials):"
  grep -oE 'leg [0-9]+: [^;]*; retrying' <<< "$text" | sed -E 's/leg [0-9]+: //; s/; retrying//' | sort | uniq -c
  grep -o 'restart trial [0-9]*: [0-9]* ms' <<< "$text" | awk '{print $4}' | sort -n |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "no trials finished"; exit }
      i50 = int(0.5 * (NR - 1) + 1.5); i99 = int(0.99 * (NR - 1) + 1.5); if (i99 > NR) i99 = NR
      printf "trials %d  min %d ms  p50 %d ms  p99 %d ms  max %d ms\n", NR, v[1], v[i50], v[i99], v[NR] }'
done
echo "test exit status: $status"
