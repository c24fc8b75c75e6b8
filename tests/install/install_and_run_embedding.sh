#!/usr/bin/env bash
# usage: install_and_run_embedding.sh BUILD_DIR EXAMPLE_DIR CXX [LAUNCHER]
# examples/embedding must build from the installed SDK alone, start a tunnel
# through a real `warren edge` (the installed one) to a local HTTP server,
# serve a request through its public address, and stop on SIGINT.
set -euo pipefail
build_dir=$1 example=$2 cxx=$3 launcher=${4:-}
source "$(dirname "$0")/out_of_tree.sh"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

install_warren "$build_dir"
[ -f "$prefix/include/warren/tunnel.hpp" ] || fail "tunnel.hpp not installed"
ls "$prefix"/lib*/libwarren-embed.so > /dev/null || fail "libwarren-embed.so not installed"
build_out_of_tree "$example" "$cxx" "$launcher"
program=$work/example/build/embedded-tunnel
[ -x "$program" ] || fail "no $program"

# wait_line FILE REGEX: the first match's line, within 20 s.
wait_line() {
  for _ in $(seq 200); do
    if line=$(grep -m1 -E "$2" "$1"); then echo "$line"; return 0; fi
    sleep 0.1
  done
  fail "no line matching $2 in $1: $(cat "$1")"
}

step "a local HTTP server and the installed warren edge"
mkdir -p "$work/site" && echo "served through warren" > "$work/site/index.html"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$work/site" > "$work/http.out" 2>&1 &
pids+=($!)
http_port=$(wait_line "$work/http.out" 'port [0-9]+' | sed -E 's/.*port ([0-9]+).*/\1/')
public_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/edge.toml" <<TOML
[edge]
state_dir = "state"
public_host = "127.0.0.1"
public_ports = "$public_port-$public_port"
quick_tunnels = true
[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
TOML
(cd "$work" && exec "$prefix/bin/warren" edge --config "$work/edge.toml" > "$work/edge.out" 2> "$work/edge.err") &
pids+=($!)
edge=$(wait_line "$work/edge.out" '^listen quic ' | awk '{print $3}')
pin=$(wait_line "$work/edge.out" '^pin sha256:' | awk '{print $2}')

step "the example starts a quick tunnel to 127.0.0.1:$http_port through $edge"
"$program" "$edge" "$pin" "$http_port" > "$work/example.out" 2> "$work/example.err" &
example_pid=$!
pids+=($example_pid)
address=$(wait_line "$work/example.out" '^127\.0\.0\.1:[0-9]+$')
echo "public address $address"

step "a request through the public address"
body=$(curl -s -m 10 "http://$address/index.html") || fail "curl failed: $(cat "$work/example.err")"
[ "$body" = "served through warren" ] || fail "wrong body: $body"

step "SIGINT stops it gracefully"
kill -INT "$example_pid"
for _ in $(seq 100); do kill -0 "$example_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$example_pid" 2>/dev/null && fail "still running 10 s after SIGINT"
wait "$example_pid" || fail "exit code $? after SIGINT: $(cat "$work/example.err")"
echo "sdk_embedding: all checks passed"
