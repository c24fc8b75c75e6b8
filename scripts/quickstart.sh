#!/usr/bin/env bash
# The quickstart: builds warren, then runs on loopback an edge, a connector
# and a small demo web server (examples/quickstart/site), prints the public
# address and a curl line to try, and stops everything on Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_BUILD_DIR:-$root/build}
"$root/scripts/bootstrap.sh"
echo "building (log in $build.log) …"
"$root/scripts/build.sh" > "$build.log" 2>&1 || { tail -50 "$build.log"; exit 1; }
warren=$build/bin/warren

for port in 7844 8080 9100; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is in use; the quickstart needs 7844 (UDP), 8080 and 9100" >&2
    exit 1
  fi
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM

# wait_for FILE SED_EXPR: prints the first match of SED_EXPR in FILE, waiting up to 10 s.
wait_for() {
  local found=""
  for _ in $(seq 100); do
    found=$(sed -n "$2" "$1")
    [ -n "$found" ] && break
    sleep 0.1
  done
  echo "$found"
}

python3 -m http.server 8080 --bind 127.0.0.1 --directory "$root/examples/quickstart/site" \
  > "$work/backend.log" 2>&1 &
pids+=($!)

cp "$root/examples/quickstart/edge.toml" "$work/"
"$warren" edge --config "$work/edge.toml" > "$work/edge.out" 2> "$work/edge.log" &
pids+=($!)
pin=$(wait_for "$work/edge.out" 's/^pin //p')
[ -n "$pin" ] || { cat "$work/edge.log"; echo "the edge did not start" >&2; exit 1; }

sed "s/@PIN@/$pin/" "$root/examples/quickstart/tunnel.toml.in" > "$work/tunnel.toml"
"$warren" connect --config "$work/tunnel.toml" > "$work/connect.out" 2> "$work/connect.log" &
pids+=($!)
address=$(wait_for "$work/connect.out" 's/^tunnel demo //p')
[ -n "$address" ] || { cat "$work/connect.log"; echo "the connector did not register" >&2; exit 1; }

cat <<TXT

  edge       127.0.0.1:7844 (QUIC), pin $pin
  metrics    curl -s http://127.0.0.1:9100/metrics
  backend    http://127.0.0.1:8080 (a demo web server)
  public     $address

Try it:

  curl http://$address/

Logs: $work/{edge,connect}.log   Ctrl-C stops everything.
TXT
wait
