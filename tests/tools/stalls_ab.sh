#!/bin/bash
# Interleaved runs of integration_stalls_test (heartbeat round trip while 64
# streams stall) with different QUIC plugins: A, B, A, B ... on one busy host.
#
#   tests/tools/stalls_ab.sh ROUNDS LABEL=PLUGIN_DIR [LABEL=PLUGIN_DIR ...]
#
# Each PLUGIN_DIR holds the libwarren-transport-quic.so to try; it is found
# first through WARREN_PLUGIN_PATH, ahead of the build's own. Run from the
# build's source tree (uses build/tests/bin/integration_stalls_test).
# Prints one line per case and run, then per label and case: the median of
# the runs' p50 and of their max, and the worst max.
set -u
rounds=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for i in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    label=${spec%%=*}
    dir=${spec#*=}
    out=$(WARREN_PLUGIN_PATH=$dir ./build/tests/bin/integration_stalls_test 2>&1)
    rc=$?
    echo "$out" | grep "heartbeat round trips" | sed "s/^/$i $label rc=$rc /" | tee -a "$log"
  done
done
python3 - "$log" <<'PY'
import re, statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\d+) (\S+) rc=(\d+) stalls \((.*?)\): heartbeat round trips \d+, p50 ([\d.]+) ms, max ([\d.]+) ms", line)
    if m:
        _, label, rc, case, p50, mx = m.groups()
        rows.setdefault((label, case), []).append((float(p50), float(mx), int(rc)))
for (label, case), r in sorted(rows.items()):
    print(f"{label} {case}: runs {len(r)}, p50 median {st.median(x[0] for x in r):.2f} ms, "
          f"max median {st.median(x[1] for x in r):.0f} ms, worst {max(x[1] for x in r):.0f} ms, "
          f"failed runs {sum(x[2] != 0 for x in r)}")
PY
