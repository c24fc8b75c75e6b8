#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build (tests/fuzz/README.md) until
# they have executed TOTAL_EXECS inputs together, one target at a time, and
# prints each target's count from libFuzzer's final stats. Exit 0 only if no
# target found anything (a crash, a leak, a timeout, a sanitizer report).
#   tests/tools/fuzz_run.sh BUILD_DIR TOTAL_EXECS
# Shares: FUZZ_SHARES="NAME=PARTS ..." (default below) split the total by
# parts. Inputs cost very different times (measured on a loaded 2-core host:
# pins ~30,000/s, stream header ~7,000/s, control frames ~3,000/s, config
# ~400/s, QUIC ~60/s: each QUIC input builds a listener and runs a TLS
# handshake), so the shares are set for similar wall time per target rather
# than equal counts. New inputs go to BUILD_DIR/fuzz/corpus/NAME, findings
# to BUILD_DIR/fuzz/artifacts/.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: tests/tools/fuzz_run.sh BUILD_DIR TOTAL_EXECS" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
total=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
shares=${FUZZ_SHARES:-"fuzz_pin_endpoint=7400 fuzz_stream_header=1500 fuzz_control_frame=1000 fuzz_config=90 fuzz_quic_datagrams=10"}
bin=$build/fuzz/bin
artifacts=$build/fuzz/artifacts
mkdir -p "$artifacts"

sum=0
for s in $shares; do sum=$((sum + ${s#*=})); done

executed=0
failed=()
start=$(date +%s)
for s in $shares; do
  name=${s%%=*}
  runs=$(( (total * ${s#*=} + sum - 1) / sum ))
  [ -x "$bin/$name" ] || { echo "fuzz_run: $bin/$name missing: build with -DWARREN_FUZZ=ON" >&2; exit 2; }
  work=$build/fuzz/corpus/$name
  mkdir -p "$work"
  log=$build/fuzz/$name.log
  t0=$(date +%s)
  status=0
  "$bin/$name" -runs="$runs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/$name-" "$work" "$root/tests/fuzz/corpus/$name" >"$log" 2>&1 || status=$?
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  n=${n:-0}
  executed=$((executed + n))
  printf '%-22s %12d execs %6ds  exit %d\n' "$name" "$n" "$(( $(date +%s) - t0 ))" "$status"
  if [ "$status" -ne 0 ]; then
    failed+=("$name")
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*fuzz finding|artifact_prefix|Test unit written)" "$log" | head -5 | sed 's/^/    /'
  fi
done
echo "total                  $executed execs in $(( $(date +%s) - start ))s, ${#failed[@]} target(s) with findings"
if [ ${#failed[@]} -ne 0 ]; then
  echo "findings: ${failed[*]} (inputs in $artifacts, logs in $build/fuzz/*.log)"
  exit 1
fi
[ "$executed" -ge "$total" ] || { echo "fewer than $total executions" >&2; exit 1; }
