#!/usr/bin/env bash
# Acceptance run for issue 6, fault 6 ("a cheap handshake flood locks
# connectors out"): a real edge, 20,000 valid-looking Initials/s from
# spoofed loopback sources for 20 s, a new connector started during the
# flood and one restarted (SIGTERM, start again) during it; prints the
# figures and checks them.
#
#   tests/tools/handshake_flood_acceptance.sh BUILD_DIR [RATE] [SECONDS]
#
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [RATE] [SECONDS]}
rate=${2:-20000}
seconds=${3:-20}
warren="$build/bin/warren"
flood="$build/tests/bin/warren-quic-initial-flood"
dir=$(mktemp -d /tmp/warren-flood-acceptance.XXXXXX)
source "$(dirname "$0")/acceptance_lib.sh"
cleanup() {
  stop_started
  if [[ ${status:-1} == 0 ]]; then rm -rf "$dir"; else echo "logs kept in $dir"; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

cat > "$dir/edge.toml" <<TOML
[edge]
id = "acceptance"
state_dir = "$dir/state"
public_host = "127.0.0.1"
public_ports = "22000-22999"
admin = "127.0.0.1:0"
[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
[[tunnels]]
id = "web"
token = "s3cret"
[[tunnels]]
id = "web2"
token = "s3cret"
TOML
"$warren" edge --config "$dir/edge.toml" > "$dir/edge.out" 2> "$dir/edge.err" &
edge=$!
pids+=("$edge")
pin=$(wait_line "$dir/edge.out" '^pin ' 10 | awk '{print $2}')
port=$(grep -m1 '^listen quic' "$dir/edge.out" | sed 's/.*://')
admin=$(grep -m1 '^admin' "$dir/edge.out" | sed 's#admin http://##; s#/metrics##')

connector_config() {  # FILE TUNNEL
  cat > "$1" <<TOML
[tunnel]
id = "$2"
token = "s3cret"
ha_connections = 1
edge_fingerprint = "$pin"
[[transport]]
plugin = "quic"
[discovery]
plugin = "static"
edges = ["127.0.0.1:$port"]
[backend]
plugin = "tcp"
address = "127.0.0.1:9"
[[policy]]
plugin = "backoff"
base = "100ms"
max = "1s"
TOML
}
connector_config "$dir/tunnel.toml" web
connector_config "$dir/tunnel2.toml" web2

start_connector() {  # NAME [CONFIG]: starts it; registered_after NAME then says when it registered
  date +%s%3N > "$dir/$1.start"
  "$warren" connect --config "${2:-$dir/tunnel.toml}" --log-level debug > "$dir/$1.out" 2> "$dir/$1.err" &
  connector=$!
  pids+=("$connector")
}
registered_after() {  # NAME: milliseconds from its start to "tunnel web …", or FAIL
  if ! wait_line "$dir/$1.out" '^tunnel web2? ' 10 > /dev/null; then echo "FAIL"; return; fi
  echo $(( $(now_ms) - $(cat "$dir/$1.start") ))
}

stop_connector() {  # SIGTERM: it unregisters, so the next one is not a duplicate
  kill -TERM "$connector"
  wait "$connector" 2>/dev/null || true
}

# The same registration with no flood, for comparison on this host.
start_connector baseline
baseline=$(registered_after baseline)
echo "connector registered with no flood after: ${baseline} ms"
stop_connector
sleep 1
idle=$(rss_kib "$edge")
echo "edge idle RSS: ${idle} KiB"

"$flood" --target "127.0.0.1:$port" --rate "$rate" --duration "${seconds}s" --sources 1024 > "$dir/flood.out" 2> "$dir/flood.err" &
flooder=$!
pids+=("$flooder")
sleep 3
during=$(rss_kib "$edge")
start_connector first
first=$(registered_after first)
echo "new connector registered during the flood after: ${first} ms"
sleep 2
stop_connector
start_connector second
second=$(registered_after second)
echo "connector restarted during the flood, registered after: ${second} ms"
peak=$during
while kill -0 "$flooder" 2>/dev/null; do
  r=$(rss_kib "$edge"); (( r > peak )) && peak=$r
  sleep 0.5
done
wait "$flooder" || true
echo "edge RSS during the flood: ${during} KiB (peak sampled ${peak} KiB)"
sleep 6  # the handshake timeout (5 s) lets the last half-open handshakes go
after=$(rss_kib "$edge")
echo "edge RSS 6 s after the flood: ${after} KiB"
echo "--- flooder"
cat "$dir/flood.out"
echo "--- edge /metrics (QUIC listener)"
metrics=$(curl -s "http://$admin/metrics")
grep '^warren_quic' <<< "$metrics"
grep '^warren_legs\|^warren_registrations_total' <<< "$metrics"
echo "--- edge log lines from the defences"
grep 'defence' "$dir/edge.err" | head -20 || true

# Phase 2: random-payload Initials as fast as one process can send them
# (capped at 100,000/s), while the connector registered above keeps its leg
# and a connector for another tunnel starts.
"$flood" --target "127.0.0.1:$port" --rate 100000 --duration 10s --sources 1024 --junk > "$dir/junk.out" 2> "$dir/junk.err" &
junker=$!
pids+=("$junker")
sleep 2
start_connector third "$dir/tunnel2.toml"
third=$(registered_after third)
echo "--- junk flood (random payloads)"
# Reported, not checked: the issue's bound is for valid-looking Initials at
# 20,000/s; this one shows what a sender-bound junk flood does on this host.
echo "connector for another tunnel registered during the junk flood after: ${third} ms"
wait "$junker" || true
cat "$dir/junk.out"
junk_metrics=$(curl -s "http://$admin/metrics")
grep -E '^warren_quic_(datagrams_shed|initials_total.*(retry|accept))|^warren_legs' <<< "$junk_metrics"
lost=$(grep -c 'connection lost' "$dir/second.err" || true)
legs=$(awk '/^warren_legs / {print $2}' <<< "$junk_metrics")
echo "connector registered before the junk flood: 'connection lost' lines in its log: $lost; edge legs now: $legs"

value() { awk -v k="$1" '$1 == k {print $2}' "$dir/flood.out"; }
metric() { grep -E "^warren_quic_$1" <<< "$metrics" | awk '{s += $2} END {print s + 0}'; }
sent=$(value sent_packets); sent_bytes=$(value sent_bytes)
back_bytes=$(value received_bytes); retries=$(value retry_packets)
initials=$(metric 'initials_total\{')
retried=$(metric 'initials_total\{.*verdict="retry"')
unv_sent=$(metric 'unvalidated_bytes_total\{.*direction="sent"')
unv_recv=$(metric 'unvalidated_bytes_total\{.*direction="received"')
status=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; status=1; fi; }
echo "--- checks"
check "new connector registered within 2 s (${first} ms)" "[[ $first != FAIL ]] && (( first <= 2000 ))"
check "restarted connector registered within 2 s (${second} ms)" "[[ $second != FAIL ]] && (( second <= 2000 ))"
check "at most one Retry per Initial, seen by the flooder ($retries <= $sent)" "(( retries <= sent ))"
check "at most one Retry per Initial, counted by the edge ($retried <= $initials)" "(( retried <= initials ))"
check "bytes to spoofed sources <= 3x received, seen by the flooder ($back_bytes <= 3 x $sent_bytes)" "(( back_bytes <= 3 * sent_bytes ))"
check "bytes to unvalidated sources <= 3x received, counted by the edge ($unv_sent <= 3 x $unv_recv)" "(( unv_sent <= 3 * unv_recv ))"
check "RSS after the flood within 2x idle ($after <= 2 x $idle KiB)" "(( after <= 2 * idle ))"
check "an established leg survives the junk flood ($lost lost, $legs legs)" "(( lost == 0 && legs == 2 ))"
exit $status
