#!/usr/bin/env bash
# The quickstart: builds warren and its bundled plugins (not the tests), then
# runs on loopback an edge, a connector and a small demo web server
# (examples/quickstart/site), prints the public address and a curl line to
# try, and stops everything on Ctrl-C.
#
# Nothing is written into the checkout except the build folder (./build, or
# $WARREN_BUILD_DIR; git ignores it). Logs and the connector's config go to
# $XDG_STATE_HOME/warren/quickstart-logs (default ~/.local/state/...) and are
# kept after it stops; the edge keeps its key pair in its state folder, so
# the pin stays the same from one run to the next.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WARREN_BUILD_DIR:-$root/build}
logs=${XDG_STATE_HOME:-$HOME/.local/state}/warren/quickstart-logs
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.out "$logs/tunnel.toml"

step() { printf '\n==> %s\n' "$*"; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "logs kept in $logs"
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 130' INT TERM

step "1/4 checking the Debian packages warren needs (scripts/bootstrap.sh)"
"$root/scripts/bootstrap.sh"

# show_progress: reads the build's output, prints its own progress lines
# ([n/N] from ninja, [ n%] from make) and, when none came for 8 s, says it
# is still working and on what.
show_progress() {
  local line pending="" last="configuring" start=$SECONDS rc
  show_line() {
    if [[ $1 =~ ^\[\ *[0-9]+(/[0-9]+|%)\] ]]; then
      last=$1
      echo "    ${1:0:110}"
    elif [[ $1 =~ ^--\ (Configuring|Generating)\ done ]]; then
      echo "    $1"
    fi
  }
  while true; do
    if IFS= read -r -t 8 line; then  # 8 s: a line at least every 10 s on a busy machine
      show_line "$pending$line"
      pending=""
    else
      rc=$?
      if [ "$rc" -gt 128 ]; then  # a timeout keeps the part of a line read so far
        pending+=$line
        [[ $pending =~ ^\[\ *[0-9]+(/[0-9]+|%)\] ]] && last=$pending
        echo "    … still building after $((SECONDS - start)) s; at: ${last:0:90}"
      else
        [ -n "$pending$line" ] && show_line "$pending$line"
        break
      fi
    fi
  done
}

step "2/4 building warren and its bundled plugins into $build (first time: a few minutes; log: $logs/build.log)"
build_start=$SECONDS
interrupted=0
trap 'interrupted=1' INT TERM  # Ctrl-C reaches the build too; say so once it stops
set +e
"$root/scripts/build.sh" warren-bundle 2>&1 | tee "$logs/build.log" | show_progress
build_status=$?
set -e
trap 'echo; echo "stopping"; exit 130' INT TERM
if [ "$interrupted" = 1 ]; then
  echo "interrupted during the build; the build's log is $logs/build.log" >&2
  exit 130
elif [ "$build_status" -ne 0 ]; then
  echo
  tail -40 "$logs/build.log"
  echo "the build failed; the whole log is $logs/build.log" >&2
  exit 1
fi
echo "    built in $((SECONDS - build_start)) s"
warren=$build/bin/warren

step "3/4 starting an edge, a demo web server and a connector on 127.0.0.1"
port_free() {  # PROTO PORT: can we bind it? (UDP cannot be probed by connecting)
  python3 - "$1" "$2" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
if kind == socket.SOCK_STREAM:  # as servers do: a closed connection's TIME_WAIT is no owner
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[2])))
except OSError:
    sys.exit(1)
PY
}
for spec in udp/7844 tcp/8080 tcp/9100; do
  if ! port_free "${spec%/*}" "${spec#*/}"; then
    echo "${spec#*/}/${spec%/*} on 127.0.0.1 is in use; the quickstart needs 7844/udp (QUIC), 8080/tcp and 9100/tcp" >&2
    exit 1
  fi
done

trap 'echo; echo "stopping"; exit 0' INT TERM  # from here on, Ctrl-C is the way to stop

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

echo "    demo web server on 127.0.0.1:8080 (python3 -m http.server)"
python3 -m http.server 8080 --bind 127.0.0.1 --directory "$root/examples/quickstart/site" \
  > "$logs/backend.log" 2>&1 &
pids+=($!)

echo "    edge: warren edge --config examples/quickstart/edge.toml"
"$warren" edge --config "$root/examples/quickstart/edge.toml" > "$logs/edge.out" 2> "$logs/edge.log" &
pids+=($!)
pin=$(wait_for "$logs/edge.out" 's/^pin //p')
[ -n "$pin" ] || { cat "$logs/edge.log"; echo "the edge did not start" >&2; exit 1; }

echo "    connector: warren connect --config $logs/tunnel.toml (examples/quickstart/tunnel.toml.in + the edge's pin)"
sed "s/@PIN@/$pin/" "$root/examples/quickstart/tunnel.toml.in" > "$logs/tunnel.toml"
"$warren" connect --config "$logs/tunnel.toml" > "$logs/connect.out" 2> "$logs/connect.log" &
pids+=($!)
address=$(wait_for "$logs/connect.out" 's/^tunnel demo //p')
[ -n "$address" ] || { cat "$logs/connect.log"; echo "the connector did not register" >&2; exit 1; }

step "4/4 ready"
cat <<TXT

  edge       127.0.0.1:7844 (QUIC), pin $pin
  metrics    curl -s http://127.0.0.1:9100/metrics
  backend    http://127.0.0.1:8080 (a demo web server)
  public     $address

Try it:

  curl http://$address/

Logs: $logs/{edge,connect,backend}.log (kept after exit)   Ctrl-C stops everything.
TXT
wait
