#!/usr/bin/env bash
# Every flood at once (issue 11, item 2), against one real edge with its
# shipped limits, on loopback:
#   - a QUIC handshake flood: valid-looking Initials from 1,024 spoofed
#     127/8 sources (warren-quic-initial-flood);
#   - a public connection flood: connect/close as fast as one process can,
#     from 127.0.0.1 (warren-loadgen flood);
#   - slowloris: 1,000 public connections that never send, from 127.0.0.4
#     (warren-loadgen idle);
#   - wrong-token guessers: 4 loops of `warren connect` with a wrong token
#     for the tunnel under test, 4 legs each, from 127.0.0.3 (their sockets
#     bound there by libwarren-bind-source.so).
# Meanwhile a legitimate connector (127.0.0.1) starts for that very tunnel
# and must register within 2 s, and a legitimate public client (127.0.0.2)
# echoes once a second and must be served N/N. The edge's RSS is sampled
# every 200 ms (peak) and again after the floods. Prints every figure, then
# checks them against the bounds stated below.
#
#   tests/tools/combined_flood_acceptance.sh BUILD_DIR            (20 s of floods, RSS 15 s after)
#   tests/tools/combined_flood_acceptance.sh BUILD_DIR --short    (CTest: 8 s of lighter floods, RSS 4 s after)
#
# RATE=N sets the handshake flood's Initials per second (default 10,000;
# 2,000 in --short). 10,000, not 20,000: on the 2-core development host,
# shared and at load 10-13, the flooder itself (~25% of a core at 20,000/s)
# got too little CPU to send 20,000/s in 5 of 10 runs (3 of those also
# missed a legitimate client's check); at 10,000/s 3 of 3 runs passed at
# that load. RATE=20000 passed the other 5 of those 10, the one full run at
# load 6, and 5 of 5 handshake-only runs (FLOODS=handshake) at load 6-9. FLOODS="handshake connections slowloris guessers" (the default: all) runs
# only those named, to tell which one costs what. Every process it starts is
# stopped on exit.
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR [--short]}" && pwd)
if [[ ${2:-} == --short ]]; then
  # Lighter floods and a 5 s probe timeout: CTest runs on busy machines,
  # where the flooders' own CPU would starve the edge (the full run is strict).
  seconds=8 after_wait=4 rate=2000 probes=5 idle_count=300 inflight=32 probe_timeout=5000 short=1
else
  short=0 seconds=20 after_wait=15 rate=10000 probes=15 idle_count=1000 inflight=256 probe_timeout=2000
fi
rate=${RATE:-$rate}
# Bounds. The edge's RSS at peak: idle + 64 MiB (the handshake guard's and
# public limits' tables, 256 public connections per source with their
# buffers, QUIC state of the guessers' connections; measured: idle 12.7 MiB,
# peak 19.5-20 MiB at 5,000 and 18,266 Initials/s); 15 s after: within
# idle + 32 MiB (what the allocator keeps). Wrong tokens the edge checks from
# the one guessing source: its burst (auth_failures_per_source = 10) plus
# one per auth_failure_interval (6 s), plus the 4 legs of a process that
# started before the burst was spent. Log lines about that source: one per
# 10 s, plus the first.
peak_bound_mib=64
after_bound_mib=32
max_checked_failures=$(( 10 + seconds / 6 + 1 + 4 ))
max_guesser_lines=$(( seconds / 10 + 2 ))

warren=$build/bin/warren
loadgen=$build/tests/bin/warren-loadgen
flood=$build/tests/bin/warren-quic-initial-flood
shim=$build/tests/bin/libwarren-bind-source.so
for tool in "$warren" "$loadgen" "$flood" "$shim"; do [[ -e $tool ]] || { echo "missing $tool (build it first)" >&2; exit 2; }; done
dir=$(mktemp -d /tmp/warren-combined-flood.XXXXXX)
source "$(dirname "$0")/acceptance_lib.sh"
guesser_pids=()
cleanup() {  # keeps the script's exit status, whatever stopping the processes returns
  local rc=$?
  set +e
  for f in "$dir"/guesser*.pid; do [[ -e $f ]] && kill "$(cat "$f")" 2>/dev/null; done
  stop_started
  if [[ ${status:-1} == 0 ]]; then rm -rf "$dir"; else echo "logs kept in $dir"; fi
  exit "$rc"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }

floods=${FLOODS:-handshake connections slowloris guessers}
runs() { [[ " $floods " == *" $1 "* ]]; }
backend_port=$(free_port)
"$loadgen" echo --port "$backend_port" --seconds 600 > "$dir/echo.out" 2> "$dir/echo.err" &
pids+=($!)
wait_line "$dir/echo.out" '^echo ready' 10 > /dev/null
public_port=$(free_port)
calm_port=$(free_port)
cat > "$dir/edge.toml" <<TOML
[edge]
id = "combined-flood"
state_dir = "$dir/state"
public_ports = "$calm_port-$calm_port"
admin = "127.0.0.1:0"
[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
[[tunnels]]
id = "web"
token = "s3cret"
public_port = $public_port
[[tunnels]]
id = "calm"
token = "s3cret"
TOML
"$warren" edge --config "$dir/edge.toml" > "$dir/edge.out" 2> "$dir/edge.err" &
edge=$!
pids+=("$edge")
pin=$(wait_line "$dir/edge.out" '^pin ' 10 | awk '{print $2}')
quic=$(grep -m1 '^listen quic' "$dir/edge.out" | sed 's/.*://')
admin=$(grep -m1 '^admin' "$dir/edge.out" | sed 's#admin http://##; s#/metrics##')

connector_config() {  # FILE TUNNEL TOKEN
  cat > "$1" <<TOML
[tunnel]
id = "$2"
token = "$3"
ha_connections = 4
edge_fingerprint = "$pin"
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
base = "100ms"
max = "1s"
TOML
}
connector_config "$dir/web.toml" web s3cret
connector_config "$dir/calm.toml" calm s3cret
connector_config "$dir/guess.toml" web wrong-guess

start_connector() {  # NAME CONFIG
  now_ms > "$dir/$1.start"
  "$warren" connect --config "$2" --log-level debug > "$dir/$1.out" 2> "$dir/$1.err" &
  pids+=($!)
}
registered_after() {  # NAME TUNNEL: ms from its start to "tunnel TUNNEL …", or FAIL
  if ! wait_line "$dir/$1.out" "^tunnel $2 " 10 > /dev/null; then echo FAIL; return; fi
  echo $(( $(now_ms) - $(cat "$dir/$1.start") ))
}
# NAME: ms from the connector's first dial to its first registered leg, by
# its own log's clock: what the edge's defences cost, without the process's
# start (slow on a loaded host); FAIL if either line is missing.
dial_to_registered() {
  awk '/ dialing / && !d {d = $1} / registered with edge / && !r {r = $1}
       function ms(t,  a) { split(substr(t, 12), a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
       END { if (d == "" || r == "") print "FAIL"; else printf "%d\n", ms(r) - ms(d) }' "$dir/$1.err"
}
metrics() { curl -s "http://$admin/metrics"; }
metric_sum() { metrics | grep -E "^$1" | awk '{s += $2} END {print s + 0}'; }

start_connector calm "$dir/calm.toml"
baseline=$(registered_after calm calm)
echo "connector registered with no flood after: ${baseline} ms"
sleep 1
idle=$(rss_kib "$edge")
echo "edge idle RSS: ${idle} KiB"

guess_loop() {  # N: wrong-token connectors from 127.0.0.3, one after another, until the floods end
  local until=$1 n=$2 runs=0
  while (( $(date +%s) < until )); do
    LD_PRELOAD=$shim WARREN_BIND_SOURCE=127.0.0.3 "$warren" connect --config "$dir/guess.toml" \
      >> "$dir/guesser$n.out" 2>> "$dir/guesser$n.err" &
    echo $! > "$dir/guesser$n.pid"
    wait $! || true
    runs=$((runs + 1))
    echo "$runs" > "$dir/guesser$n.runs"
  done
}
# The edge's QUIC socket in /proc/net/udp: "BYTES_QUEUED DROPS". The
# queue is what every datagram, a connector's too, waits behind: when the
# edge cannot read as fast as the flood comes, it grows to the 24 MiB
# receive buffer and each round trip waits for it (seconds), then drops.
quic_queue() {
  local hex drops
  read -r hex drops < <(awk -v port="$(printf '%04X' "$quic")" '$2 ~ ":" port "$" {split($5, q, ":"); print q[2], $NF; exit}' /proc/net/udp)
  echo "$(( 16#${hex:-0} )) ${drops:-0}"
}
watch_rss() {  # peak RSS and peak socket queue every 200 ms into FILE and FILE.queue
  local peak=0 r queue_peak=0 queued drops
  while kill -0 "$edge" 2>/dev/null; do
    r=$(rss_kib "$edge"); (( r > peak )) && peak=$r
    read -r queued drops < <(quic_queue) || true
    (( ${queued:-0} > queue_peak )) && queue_peak=$queued
    echo "$(now_ms) ${queued:-0} ${drops:-0}" >> "$dir/queue.series"  # kept with the logs: when it grew
    # Replaced, not rewritten: a reader never sees the file empty.
    echo "$peak" > "$1.new"; mv "$1.new" "$1"
    echo "$queue_peak" > "$1.queue.new"; mv "$1.queue.new" "$1.queue"
    sleep 0.2
  done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
# Times the edge's threads went to sleep and were woken: under a flood the
# cost of each wake-up (a context switch) outweighs the work on a datagram.
wakeups() { cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s + 0}'; }
watch_rss "$dir/peak" & watcher=$!; pids+=($watcher)
cpu_before=$(cpu_ticks "$edge")
wakeups_before=$(wakeups "$edge")
read -r _ drops_before < <(quic_queue) || true
end=$(( $(date +%s) + seconds ))
if runs handshake; then
  "$flood" --target "127.0.0.1:$quic" --rate "$rate" --duration "${seconds}s" --sources 1024 > "$dir/hsflood.out" 2> "$dir/hsflood.err" &
  pids+=($!)
fi
if runs connections; then
  "$loadgen" flood --port "$public_port" --seconds "$seconds" --inflight "$inflight" > "$dir/connflood.out" 2>&1 &
  pids+=($!)
fi
if runs slowloris; then
  "$loadgen" idle --port "$public_port" --bind 127.0.0.4 --count "$idle_count" --hold "$seconds" > "$dir/idle.out" 2> "$dir/idle.err" &
  pids+=($!)
fi
if runs guessers; then for n in 1 2 3 4; do guess_loop "$end" "$n" & pids+=($!); done; fi

sleep 2
start_connector web "$dir/web.toml"
registered=$(registered_after web web)
registered_dial=$(dial_to_registered web)
echo "legitimate connector (127.0.0.1) for the guessed tunnel registered during the floods: ${registered_dial} ms after its first dial, ${registered} ms after its process started"
"$loadgen" probe --port "$public_port" --bind 127.0.0.2 --count "$probes" --interval-ms 1000 --timeout-ms "$probe_timeout" \
  > "$dir/probe.out" 2> "$dir/probe.err" || true
echo "legitimate public client (127.0.0.2): $(cat "$dir/probe.out")"
served=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' "$dir/probe.out")

while (( $(date +%s) < end )); do sleep 0.2; done
for n in 1 2 3 4; do [[ -e $dir/guesser$n.pid ]] && kill "$(cat "$dir/guesser$n.pid")" 2>/dev/null || true; done
if runs connections; then wait_line "$dir/connflood.out" '^attempts=' 30 > /dev/null || true; fi
if runs slowloris; then wait_line "$dir/idle.out" '^attempted=' 30 > /dev/null || true; fi
read -r peak < "$dir/peak"
read -r queue_peak < "$dir/peak.queue" || queue_peak=0
read -r _ drops_after < <(quic_queue) || true
kill "$watcher" 2>/dev/null || true
during_metrics=$(metrics)
edge_cpu=$(( ($(cpu_ticks "$edge") - cpu_before) * 100 / $(getconf CLK_TCK) / seconds ))  # percent of one core
edge_wakeups=$(( ($(wakeups "$edge") - wakeups_before) / seconds ))
sleep "$after_wait"
after=$(rss_kib "$edge")

echo "--- floods (${seconds} s)"
if runs handshake; then
  echo "handshake flood: $(tr '\n' ' ' < "$dir/hsflood.out")"
  achieved=$(awk '$1 == "rate" {print $2}' "$dir/hsflood.out")
  echo "handshake flood reached ${achieved:-0} of $rate Initials/s asked, the flooder taking $(awk '$1 == "cpu_percent" {print $2}' "$dir/hsflood.out")% of one core"
fi
runs connections && echo "connection flood (127.0.0.1): $(cat "$dir/connflood.out")"
runs slowloris && echo "slowloris (127.0.0.4): $(tail -1 "$dir/idle.out")"
runs=0; for n in 1 2 3 4; do [[ -e $dir/guesser$n.runs ]] && runs=$(( runs + $(cat "$dir/guesser$n.runs") )); done
echo "wrong-token guessers (127.0.0.3): $runs connector processes started (4 legs each)"
echo "--- edge"
echo "edge CPU during the floods: ${edge_cpu}% of one core, ${edge_wakeups} wake-ups/s (host load: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores)"
echo "edge QUIC socket: peak receive queue $(( queue_peak / 1024 )) KiB, datagrams dropped by the kernel $(( ${drops_after:-0} - ${drops_before:-0} ))"
echo "edge RSS: idle ${idle} KiB, peak during the floods ${peak} KiB, ${after_wait} s after ${after} KiB"
grep -E '^warren_(registrations_throttled_total|auth_failures_total|registrations_total|registrations_refused_total|public_refused_total|legs |quic_initials_total)' <<< "$during_metrics"
value_of() { awk -v k="$1" '$1 == k {print $2}' <<< "$during_metrics"; }
failures=$(value_of warren_auth_failures_total)
throttled=$(value_of 'warren_registrations_throttled_total{reason="source_auth_failures"}')
public_refused=$(grep -E '^warren_public_refused_total' <<< "$during_metrics" | awk '{s += $2} END {print s + 0}')
guesser_lines=$(grep -c 'registrations from 127.0.0.3' "$dir/edge.err" || true)
per_attempt_lines=$(grep -c 'refused connection from 127.0.0.3' "$dir/edge.err" || true)
echo "edge log lines about the guessing source: $guesser_lines aggregated, $per_attempt_lines per attempt"
grep -m3 'registrations from 127.0.0.3' "$dir/edge.err" || true
guesser_exit=$(cat "$dir"/guesser*.err 2>/dev/null | grep -c 'does not accept this tunnel id and token' || true)
echo "guessers told their token is wrong: $guesser_exit times"

status=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; status=1; fi; }
echo "--- checks"
check "legitimate connector registered within 2 s of its first dial during the floods (${registered_dial} ms)" \
  "[[ $registered_dial != FAIL ]] && (( registered_dial <= 2000 ))"
check "legitimate public client served ${served:-0}/$probes" "[[ ${served:-0} == $probes ]]"
runs guessers && check "the guessers were throttled (source_auth_failures: ${throttled:-0})" "(( ${throttled:-0} > 0 ))"
runs guessers && check "wrong tokens checked from the guessing source <= $max_checked_failures (${failures:-0})" \
  "(( ${failures:-0} > 0 && ${failures:-0} <= max_checked_failures ))"
runs guessers && check "log lines about the guessing source <= $max_guesser_lines, none per attempt ($guesser_lines, $per_attempt_lines)" \
  "(( guesser_lines >= 1 && guesser_lines <= max_guesser_lines && per_attempt_lines == 0 ))"
# The full run's figures are at the rate asked only if the flooder made it
# (on a busy host it gets too little CPU): then lower RATE, and say so.
(( short == 0 )) && runs handshake && check "the handshake flood reached 90% of the $rate Initials/s asked (${achieved:-0})" \
  "(( ${achieved:-0} * 10 >= rate * 9 ))"
runs connections && check "the public floods were refused by the edge's limits ($public_refused)" "(( public_refused > 0 ))"
check "edge peak RSS <= idle + ${peak_bound_mib} MiB ($peak KiB, idle $idle KiB)" \
  "(( peak <= idle + peak_bound_mib * 1024 ))"
check "edge RSS ${after_wait} s after <= idle + ${after_bound_mib} MiB ($after KiB)" \
  "(( after <= idle + after_bound_mib * 1024 ))"
exit $status
