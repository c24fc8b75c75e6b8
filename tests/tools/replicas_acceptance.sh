#!/bin/bash
# Acceptance run (issue 8, item 5): two `warren connect` from the same config
# (only the backend differs, so each answer says who served it) on an edge
# with default timings. For SECONDS (default 20) two loops of requests run
# while connector b is SIGKILLed every KILL_EVERY seconds (default 4) and
# started again. Prints leg registrations, replacements and refusals at the
# edge, requests served by each backend, and the failures: those that
# started after a kill ("lost new connections", which must be 0) apart from
# those already in flight at a kill (lost with the dead process, as any TCP
# connection to it would be). Also the edge's re-dispatch counters.
# Loopback only; every process it starts is stopped by PID at the end.
# Usage: replicas_acceptance.sh BUILD_DIR [SECONDS]   (BUILD_DIR/bin/warren)
set -eu
build=${1:?usage: $0 BUILD_DIR [SECONDS]}
seconds=${2:-20}
warren="$build/bin/warren"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/acceptance_lib.sh"
work=$(mktemp -d)
trap 'stop_started; rm -rf "$work"' EXIT INT TERM

for name in a b; do
  mkdir -p "$work/site-$name" && echo "$name" > "$work/site-$name/who"
  port=$(free_port)
  (cd "$work/site-$name" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) & pids+=($!)
  eval "backend_$name=$port"
done
public=$(free_port)
cat > "$work/edge.toml" <<TOML
[edge]
state_dir = "$work/state"
admin = "127.0.0.1:0"
public_ports = "$public-$public"
[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
[[tunnels]]
id = "web"
token = "s3cret"
TOML
"$warren" edge --config "$work/edge.toml" > "$work/edge.out" 2> "$work/edge.err" & pids+=($!)
quic=$(wait_line "$work/edge.out" '^listen quic ' 10 | sed 's/.*://')
pin=$(wait_line "$work/edge.out" '^pin ' 10 | sed 's/^pin //')
for name in a b; do
  eval "backend=\$backend_$name"
  cat > "$work/$name.toml" <<TOML
[tunnel]
id = "web"
token = "s3cret"
edge_fingerprint = "$pin"
[[transport]]
plugin = "quic"
[discovery]
plugin = "static"
edges = ["127.0.0.1:$quic"]
[backend]
plugin = "tcp"
address = "127.0.0.1:$backend"
[[policy]]
plugin = "backoff"
TOML
done
"$warren" connect --config "$work/a.toml" > "$work/a.out" 2> "$work/a.err" & pids+=($!)
start_b() {
  "$warren" connect --config "$work/b.toml" >> "$work/b.out" 2>> "$work/b.err" & pids+=($!)
  pid_b=$!
}
start_b
for _ in $(seq 100); do curl -s -m 1 "http://127.0.0.1:$public/who" >/dev/null && break; sleep 0.1; done

t0=$(date +%s%N)
now_ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
# One request at a time; prints "START_MS END_MS a|b|fail" per request.
requests() {  # SECONDS
  local until=$(( $(date +%s) + $1 )) start who
  while (( $(date +%s) < until )); do
    start=$(now_ms)
    who=$(curl -s -f -m 5 "http://127.0.0.1:$public/who") || who=fail
    echo "$start $(now_ms) $who"
  done
}
requests "$seconds" > "$work/requests1.txt" & loop1=$!
requests "$seconds" > "$work/requests2.txt" & loop2=$!
kill_every=${KILL_EVERY:-4}
: > "$work/kills.txt"
end=$(( $(date +%s) + seconds - kill_every ))
while (( $(date +%s) < end )); do
  sleep "$kill_every"
  kill -9 "$pid_b"
  now_ms >> "$work/kills.txt"
  { wait "$pid_b"; } 2>/dev/null || true
  sleep 1
  registered=$(grep -c 'registered from' "$work/edge.err" || true)
  start_b
  for _ in $(seq 100); do
    (( $(grep -c 'registered from' "$work/edge.err" || true) >= registered + 2 )) && break
    sleep 0.1
  done
done
wait "$loop1" "$loop2"
cat "$work/requests1.txt" "$work/requests2.txt" > "$work/requests.txt"

replaced=$(grep -c 'replaces an older connection' "$work/edge.err" || true)
registered=$(grep -c 'registered from' "$work/edge.err" || true)
refused=$(grep -c 'refused connection' "$work/edge.err" || true)
kills=$(grep -c . "$work/kills.txt" || true)
echo "$seconds s, two request loops, b SIGKILLed $kills times (at ms: $(tr '\n' ' ' < "$work/kills.txt"))"
echo "requests: $(grep -c . "$work/requests.txt"), served by a: $(grep -c ' a$' "$work/requests.txt" || true)," \
     "by b: $(grep -c ' b$' "$work/requests.txt" || true), failed: $(grep -c ' fail$' "$work/requests.txt" || true)"
# A failure is "in flight" if a kill fell between its start and end; any other is a lost new connection.
awk -v kills="$(tr '\n' ' ' < "$work/kills.txt")" '
  BEGIN { n = split(kills, k, " ") }
  $3 == "fail" {
    inflight = 0
    for (i = 1; i <= n; i++) if ($1 < k[i] && k[i] <= $2) inflight = 1
    if (inflight) f++; else { lost++; at = at " " $1 }
  }
  END { printf "failures in flight at a kill: %d; lost new connections: %d%s\n", f, lost, (lost ? " (started at ms:" at ")" : "") }
' "$work/requests.txt"
awk '{ d = $2 - $1; s += d; if (d > m) m = d } END { if (NR) printf "request time: mean %.0f ms, max %d ms\n", s / NR, m }' "$work/requests.txt"
echo "edge: $registered leg registrations, $replaced leg replacements, $refused refused registrations"
admin=$(grep -m1 '^admin ' "$work/edge.out" | sed 's|^admin ||')
curl -s "$admin" | grep -E '^warren_(streams_redispatched|streams_unanswered|stream_refusals|streams_aborted_leg_gone)' | sed 's/^/  edge: /'
grep -h 're-dispatching' "$work/edge.err" | sed 's/^/  edge: /' | head -5
