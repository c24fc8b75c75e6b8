#!/bin/bash
# Acceptance run (issue 8, item 5): two `warren connect` from the same config
# (only the backend differs, so each answer says who served it) on an edge
# with default timings. For SECONDS (default 20) a loop of requests runs;
# then one connector is SIGKILLed and the loop runs 10 s more. Prints leg
# replacements, registrations and refusals at the edge, requests served by
# each backend, failures, and when the last failure after the kill started.
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
  "$warren" connect --config "$work/$name.toml" > "$work/$name.out" 2> "$work/$name.err" & pids+=($!)
  eval "pid_$name=$!"
done
for _ in $(seq 100); do curl -s -m 1 "http://127.0.0.1:$public/who" >/dev/null && break; sleep 0.1; done

# One request at a time; prints "a", "b" or "fail START_MS" per request.
requests() {  # SECONDS T0_NS
  local until=$(( $(date +%s) + $1 ))
  while (( $(date +%s) < until )); do
    local start=$(date +%s%N)
    if who=$(curl -s -f -m 3 "http://127.0.0.1:$public/who"); then echo "$who"
    else echo "fail $(( (start - $2) / 1000000 ))"; fi
  done
}
requests "$seconds" "$(date +%s%N)" > "$work/before.txt"
replaced=$(grep -c 'replaces an older connection' "$work/edge.err" || true)
registered=$(grep -c 'registered from' "$work/edge.err" || true)
refused=$(grep -c 'refused connection' "$work/edge.err" || true)
echo "$seconds s with two connectors: $(grep -c . "$work/before.txt") requests," \
     "served by a: $(grep -cx a "$work/before.txt" || true), by b: $(grep -cx b "$work/before.txt" || true)," \
     "failed: $(grep -c '^fail' "$work/before.txt" || true)"
echo "edge: $registered leg registrations, $replaced leg replacements, $refused refused registrations"
grep -h 'replica' "$work/edge.err" | sed 's/^/  edge: /' | head -5

killed=$(date +%s%N)
kill -9 "$pid_b"
requests 10 "$killed" > "$work/after.txt"
echo "after SIGKILL of b, 10 s: $(grep -c . "$work/after.txt") requests," \
     "served by a: $(grep -cx a "$work/after.txt" || true), failed: $(grep -c '^fail' "$work/after.txt" || true)" \
     "(started at ms after the kill: $(grep '^fail' "$work/after.txt" | cut -d' ' -f2 | tr '\n' ' '))"
