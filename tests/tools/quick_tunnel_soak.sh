#!/bin/sh
# Acceptance run (issue 7, item 1): `warren quick` serves for SECONDS (default
# 60) on a loop of requests with no error. Loopback only; every process it
# starts is stopped by PID at the end. Usage: quick_tunnel_soak.sh BUILD_DIR [SECONDS]
set -eu
build=${1:?usage: $0 BUILD_DIR [SECONDS]}
seconds=${2:-60}
warren="$build/bin/warren"
work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
public=$(port)
mkdir -p "$work/site" && head -c 100000 /dev/urandom > "$work/site/blob"
backend=$(port)
(cd "$work/site" && exec python3 -m http.server "$backend" --bind 127.0.0.1 >/dev/null 2>&1) & pids="$pids $!"
for _ in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$backend/" && break; sleep 0.1; done

cat > "$work/edge.toml" <<TOML
[edge]
state_dir = "$work/state"
public_ports = "$public-$public"
quick_tunnels = true
admin = "127.0.0.1:0"
[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
TOML
"$warren" edge --config "$work/edge.toml" > "$work/edge.out" 2> "$work/edge.err" & pids="$pids $!"
for _ in $(seq 50); do grep -q '^pin ' "$work/edge.out" 2>/dev/null && break; sleep 0.1; done
quic=$(sed -n 's/^listen quic 127.0.0.1:\([0-9]*\)$/\1/p' "$work/edge.out")
pin=$(sed -n 's/^pin //p' "$work/edge.out")
"$warren" quick --edge "127.0.0.1:$quic" --to "127.0.0.1:$backend" --fingerprint "$pin" > "$work/quick.out" 2> "$work/quick.err" &
quick_pid=$!; pids="$pids $quick_pid"
for _ in $(seq 100); do [ -s "$work/quick.out" ] && break; sleep 0.1; done
address=$(head -n1 "$work/quick.out")
echo "quick tunnel at $address"
want=$(sha256sum < "$work/site/blob")
ok=0; failed=0; end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
  got=$(curl -s -f -m 5 "http://$address/blob" | sha256sum) || true
  if [ "$got" = "$want" ]; then ok=$((ok + 1)); else failed=$((failed + 1)); echo "$(date +%T.%N) request failed"; fi
  sleep 0.2
done
alive=yes; kill -0 "$quick_pid" 2>/dev/null || alive=no
errors=$(grep -c -E ' (warning|error|critical) ' "$work/quick.err" || true)
echo "requests ok $ok, failed $failed, warren quick alive: $alive, warning/error lines: $errors"
[ "$failed" -eq 0 ] && [ "$alive" = yes ] && [ "$errors" -eq 0 ]
