#!/usr/bin/env bash
# The full-length acceptance runs for the edge's public limits (issue 6,
# fault 5), on loopback, with the shipped defaults:
#   A. 3,000 idle connections from 127.0.0.1 held 60 s, while a legitimate
#      client from 127.0.0.2 echoes once a second (60 probes);
#   B. a 20 s connection flood from 127.0.0.1 (two flooder processes), while
#      the legitimate client echoes once a second (20 probes).
# Prints the probes' success counts, the refusal metrics and the edge's peak
# RSS. Usage: tests/tools/limits_acceptance.sh [BUILD_DIR]   (default: build)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
warren=$build/bin/warren
loadgen=$build/tests/bin/warren-loadgen
work=$(mktemp -d /tmp/warren-limits.XXXXXX)
source "$(dirname "$0")/acceptance_lib.sh"
cleanup() {
  stop_started
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "$1" >&2; for f in "$work"/*.err; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }

backend_port=$(free_port)
"$loadgen" echo --port "$backend_port" --seconds 600 > "$work/echo.out" 2> "$work/echo.err" &
pids+=($!)
wait_line "$work/echo.out" '^echo ready' 10 > /dev/null
public_port=$(free_port)
cat > "$work/edge.toml" <<TOML
[edge]
id = "edge-acceptance"
state_dir = "state"
public_ports = "$public_port-$public_port"
admin = "127.0.0.1:0"
[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
[[tunnels]]
id = "web"
token = "s3cret"
TOML
"$warren" edge --config "$work/edge.toml" > "$work/edge.out" 2> "$work/edge.err" &
edge_pid=$!
pids+=($edge_pid)
quic=$(wait_line "$work/edge.out" '^listen quic' 10 | sed 's/.*://')
admin=$(wait_line "$work/edge.out" '^admin ' 10 | sed 's|admin http://||; s|/metrics||')
cat > "$work/tunnel.toml" <<TOML
[tunnel]
id = "web"
token = "s3cret"
ha_connections = 2
insecure = true
[[transport]]
plugin = "quic"
[discovery]
plugin = "static"
edges = ["127.0.0.1:$quic"]
[backend]
plugin = "tcp"
address = "127.0.0.1:$backend_port"
[[policy]]
plugin = "backoff"
TOML
"$warren" connect --config "$work/tunnel.toml" > "$work/connector.out" 2> "$work/connector.err" &
pids+=($!)
wait_line "$work/connector.out" "^tunnel web " 15 > /dev/null || fail "the connector did not register"

metric() { curl -s "http://$admin/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
watch_rss() {  # peak RSS and peak active streams, sampled every 200 ms, into FILE
  local peak=0 streams=0
  while kill -0 "$edge_pid" 2>/dev/null; do
    r=$(rss_kib "$edge_pid"); (( r > peak )) && peak=$r
    s=$(metric warren_streams_active); (( ${s:-0} > streams )) && streams=$s
    echo "$peak $streams" > "$1"; sleep 0.2
  done
}
echo "edge idle RSS: $(rss_kib "$edge_pid") KiB"

# A. idle connections
watch_rss "$work/peak_a" & watcher=$!; pids+=($watcher)
"$loadgen" idle --port "$public_port" --count 3000 --hold 66 > "$work/idle.out" 2> "$work/idle.err" &
pids+=($!)
wait_line "$work/idle.out" '^held ' 30
"$loadgen" probe --port "$public_port" --bind 127.0.0.2 --count 60 --interval-ms 1000 --timeout-ms 2000 \
  2> "$work/probe_a.err" | sed 's/^/A. legitimate client (127.0.0.2): /'
wait_line "$work/idle.out" '^attempted=' 30 | sed 's/^/A. idle holder: /'
kill "$watcher"; read -r peak streams < "$work/peak_a"
echo "A. edge peak RSS ${peak} KiB, peak active streams ${streams}"
cat "$work/probe_a.err"

# B. connection flood from one source (two processes)
watch_rss "$work/peak_b" & watcher=$!; pids+=($watcher)
for i in 1 2; do
  "$loadgen" flood --port "$public_port" --seconds 20 --inflight 256 > "$work/flood$i.out" 2>&1 &
  pids+=($!)
done
"$loadgen" probe --port "$public_port" --bind 127.0.0.2 --count 20 --interval-ms 1000 --timeout-ms 2000 \
  2> "$work/probe_b.err" | sed 's/^/B. legitimate client (127.0.0.2): /'
for i in 1 2; do wait_line "$work/flood$i.out" '^attempts=' 30 | sed "s/^/B. flooder $i: /"; done
kill "$watcher"; read -r peak streams < "$work/peak_b"
echo "B. edge peak RSS ${peak} KiB, peak active streams ${streams}"
cat "$work/probe_b.err"

echo "edge RSS after: $(rss_kib "$edge_pid") KiB"
curl -s "http://$admin/metrics" | grep -E '^warren_(public_refused_total|streams_refused_total|streams_total|streams_active|public_idle)'
echo "refusal log lines: $(grep -c 'refused a public connection' "$work/edge.err" || true)"
grep -m3 'refused a public connection' "$work/edge.err" || true
