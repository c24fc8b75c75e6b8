#!/usr/bin/env bash
# bench/run.sh — compare throughput and latency to one local service over
#   1. direct loopback      (client -> service)
#   2. warren               (client -> edge public port -> QUIC -> connector -> service)
#   3. ssh -R               (client -> sshd forwarded port -> SSH channel -> ssh -> service)
# A benchmark, not a test: it prints figures and exits 0 unless something failed to run.
# Everything stays on 127.0.0.1. See bench/README.md.
#
# Usage: bench/run.sh [--build-dir DIR]       (default: ./build of this repo)
# Env:   BENCH_SECONDS=5   iperf3 seconds per direction
#        BENCH_ROUNDS=2000 ping-pong round trips measured (after BENCH_WARMUP=200)
#        BENCH_SIZE=64     ping-pong message size in bytes
#        BENCH_SSH=1       0 skips the ssh -R path
#        BENCH_LOG_LEVEL=  --log-level given to warren (default: warren's own)
#        BENCH_KEEP=0      1 keeps the temp dir (logs, configs) and prints its path
#        BENCH_PERF=0      1 adds one more warren iperf3 run per direction under `perf stat`
#                          (observation only, not in the table): CPU, context switches and
#                          syscalls per MB for the edge and the connector
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
build_dir="$repo/build"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
while (($#)); do
  case "$1" in
    --build-dir) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; build_dir="$2"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

SECONDS_PER_RUN="${BENCH_SECONDS:-5}"
ROUNDS="${BENCH_ROUNDS:-2000}"
WARMUP="${BENCH_WARMUP:-200}"
SIZE="${BENCH_SIZE:-64}"
WITH_SSH="${BENCH_SSH:-1}"
KEEP="${BENCH_KEEP:-0}"
PERF="${BENCH_PERF:-0}"
LOG_LEVEL="${BENCH_LOG_LEVEL:-}"
for v in SECONDS_PER_RUN ROUNDS WARMUP SIZE; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -gt 0 || ( "$v" == WARMUP && "${!v}" =~ ^[0-9]+$ ) ]] \
    || { echo "run.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies
warren="$build_dir/bin/warren"
# a rebuild may be in progress: wait a little for the binary if its build dir exists
[[ -d "$build_dir" ]] && for _ in $(seq 1 30); do [[ -x "$warren" ]] && break; sleep 1; done
[[ -x "$warren" ]] || die "no warren binary at $warren (build first, or pass --build-dir DIR)"
command -v python3 >/dev/null || die "python3 is required"

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
need_pkgs=()
command -v iperf3 >/dev/null || need_pkgs+=(iperf3)
if [[ "$WITH_SSH" == 1 ]]; then
  [[ -x /usr/sbin/sshd ]] || need_pkgs+=(openssh-server)
  command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need_pkgs+=(openssh-client)
fi
if ((${#need_pkgs[@]})); then
  say "installing ${need_pkgs[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1 \
    || { as_root apt-get update -q >/dev/null 2>&1 && as_root apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1; } \
    || say "could not install ${need_pkgs[*]}"
fi
command -v iperf3 >/dev/null || die "iperf3 is required (apt-get install iperf3)"
if [[ "$WITH_SSH" == 1 ]] && ! { [[ -x /usr/sbin/sshd ]] && command -v ssh >/dev/null; }; then
  say "openssh-server/openssh-client missing: skipping the ssh -R path"; WITH_SSH=0
fi

# ------------------------------------------------------- processes and cleanup
tmp="$(mktemp -d "${TMPDIR:-/tmp}/warren-bench.XXXXXX")"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p i all=()
  # newest first (ssh before sshd, connectors before the edge), plus sshd's
  # per-connection children, which outlive a killed listener for a moment
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    all+=("${pids[i]}")
    [[ "${pids[i]}" == "${pid_sshd:-}" ]] && all+=($(pgrep -P "${pids[i]}" 2>/dev/null || true))
  done
  pids=("${all[@]}")
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do                          # up to 5 s for a graceful stop
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "$KEEP" == 1 ]]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME CMD... : run in the background, stdout/stderr to $tmp/NAME.out/.err
start() {
  local name="$1"; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  pids+=("$!")
  eval "pid_${name//-/_}=$!"
}
pid_of() { local v="pid_${1//-/_}"; echo "${!v}"; }

# wait_line NAME REGEX SECONDS : print the first stdout line of NAME matching REGEX
wait_line() {
  local name="$1" re="$2" deadline=$((SECONDS + $3)) line pid
  pid="$(pid_of "$name")"
  while ((SECONDS < deadline)); do
    if line="$(grep -E -m1 -- "$re" "$tmp/$name.out" 2>/dev/null)"; then echo "$line"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$tmp/$name.err" >&2; die "$name exited before printing /$re/"; }
    sleep 0.05
  done
  tail -n 20 "$tmp/$name.err" >&2
  die "$name did not print /$re/ within $3 s"
}

wait_listen() {  # PORT SECONDS NAME
  python3 "$here/pingpong.py" wait --listen-only --port "$1" --timeout "$2" \
    || { tail -n 20 "$tmp/$3.err" >&2 2>/dev/null; die "$3: nothing listening on 127.0.0.1:$1 after $2 s"; }
}

cpu_busy_pct() {  # share of all CPUs busy over one second, from /proc/stat
  python3 - <<'PY'
import time
def snap():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]
t0, i0 = snap(); time.sleep(1); t1, i1 = snap()
print(round(100 * (1 - (i1 - i0) / max(1, t1 - t0))))
PY
}

cpu_ticks() {  # utime+stime of a pid (and its threads), in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
hz="$(getconf CLK_TCK)"

mapfile -t ports < <(python3 "$here/pingpong.py" freeport 6)
iperf_port="${ports[0]}"; warren_iperf_port="${ports[1]}"; warren_echo_port="${ports[2]}"
ssh_port="${ports[3]}"; ssh_iperf_port="${ports[4]}"; ssh_echo_port="${ports[5]}"

# ------------------------------------------------------------ a quiet machine?
busy_before="$(cpu_busy_pct)"
if ((busy_before > 15)); then
  say "warning: the machine is already ${busy_before}% busy before the benchmark starts; figures will be noisy."
  say "busiest processes: $(ps -eo pcpu=,comm= --sort=-pcpu | head -n 3 | awk '{printf "%s (%s%%) ", $2, $1}')"
fi

# -------------------------------------------------------------------- services
start iperf3-server iperf3 -s -B 127.0.0.1 -p "$iperf_port"
start echo python3 "$here/pingpong.py" echo --port-file "$tmp/echo.port"
wait_listen "$iperf_port" 10 iperf3-server
for _ in $(seq 1 100); do [[ -s "$tmp/echo.port" ]] && break; sleep 0.05; done
[[ -s "$tmp/echo.port" ]] || die "echo server did not start"
echo_port="$(cat "$tmp/echo.port")"

# ---------------------------------------------------------------------- warren
wflags=(); [[ -n "$LOG_LEVEL" ]] && wflags=(--log-level "$LOG_LEVEL")
mkdir -p "$tmp/edge-state"
cat >"$tmp/edge.toml" <<EOF
[edge]
id = "bench"
state_dir = "$tmp/edge-state"
public_host = "127.0.0.1"
public_ports = "$warren_iperf_port-$warren_iperf_port"

[[listen]]
plugin = "quic"
address = "127.0.0.1:0"

[[tunnels]]
id = "iperf"
token = "bench-iperf"
public_port = $warren_iperf_port

[[tunnels]]
id = "echo"
token = "bench-echo"
public_port = $warren_echo_port
EOF
start edge "$warren" "${wflags[@]}" edge --config "$tmp/edge.toml"
quic_addr="$(wait_line edge '^listen quic ' 20 | awk '{print $3}')"
pin="$(wait_line edge '^pin ' 20 | awk '{print $2}')"

for t in iperf echo; do
  backend_port="$iperf_port"; [[ $t == echo ]] && backend_port="$echo_port"
  cat >"$tmp/connect-$t.toml" <<EOF
[tunnel]
id = "$t"
token = "bench-$t"
edge_fingerprint = "$pin"
grace_period = "1s"

[[transport]]
plugin = "quic"

[discovery]
plugin = "static"
edges = ["$quic_addr"]

[backend]
plugin = "tcp"
address = "127.0.0.1:$backend_port"

[[policy]]
plugin = "backoff"
EOF
  start "connect-$t" "$warren" "${wflags[@]}" connect --config "$tmp/connect-$t.toml"
done
for t in iperf echo; do
  addr="$(wait_line "connect-$t" "^tunnel $t " 30 | awk '{print $3}')"
  port="${addr##*:}"
  [[ $t == iperf ]] && warren_iperf_port="$port" || warren_echo_port="$port"
  wait_listen "$port" 10 edge
done
say "warren: edge quic $quic_addr (pid $(pid_of edge)), tunnels on :$warren_iperf_port (iperf3, connector pid $(pid_of connect-iperf)) and :$warren_echo_port (echo, connector pid $(pid_of connect-echo))"

# --------------------------------------------------------------------- ssh -R
if [[ "$WITH_SSH" == 1 ]]; then
  sshdir="$tmp/ssh"; mkdir -p "$sshdir"; chmod 700 "$sshdir"
  ssh-keygen -q -t ed25519 -N '' -f "$sshdir/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$sshdir/client_key"
  cp "$sshdir/client_key.pub" "$sshdir/authorized_keys"; chmod 600 "$sshdir/authorized_keys"
  ssh_user="$(id -un)"
  cat >"$sshdir/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $sshdir/host_key
PidFile none
AuthorizedKeysFile $sshdir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
GatewayPorts clientspecified
PrintMotd no
UseDNS no
LogLevel ERROR
EOF
  [[ -d /run/sshd ]] || as_root mkdir -p /run/sshd 2>/dev/null || true   # privilege-separation dir
  start sshd /usr/sbin/sshd -D -e -f "$sshdir/sshd_config"
  wait_listen "$ssh_port" 10 sshd
  start ssh ssh -N -F /dev/null -p "$ssh_port" -i "$sshdir/client_key" \
    -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ExitOnForwardFailure=yes -o LogLevel=ERROR \
    -R "127.0.0.1:$ssh_iperf_port:127.0.0.1:$iperf_port" \
    -R "127.0.0.1:$ssh_echo_port:127.0.0.1:$echo_port" \
    "$ssh_user@127.0.0.1"
  wait_listen "$ssh_iperf_port" 20 ssh
  wait_listen "$ssh_echo_port" 20 ssh
  ssh_cipher="$(ssh -F /dev/null -G -p "$ssh_port" 127.0.0.1 2>/dev/null | awk '$1=="ciphers"{split($2,a,",");print a[1]}')"
  say "ssh -R: sshd on :$ssh_port, forwards on :$ssh_iperf_port (iperf3) and :$ssh_echo_port (echo), cipher ${ssh_cipher:-default}"
fi

# ---------------------------------------------------------------- measurements
declare -A up down p50 p90 p99
cpu_edge_up=0 cpu_conn_up=0 cpu_edge_down=0 cpu_conn_down=0

iperf_run() {  # LABEL PORT [-R] -> prints received bits/s
  local label="$1" port="$2"; shift 2
  local out="$tmp/iperf-$label${1:-}.json"
  if ! timeout $((SECONDS_PER_RUN + 30)) iperf3 -c 127.0.0.1 -p "$port" -t "$SECONDS_PER_RUN" -O 1 \
        --connect-timeout 5000 -J "$@" >"$out" 2>"$out.err"; then
    python3 "$here/pingpong.py" iperf-summary "$out" >/dev/null 2>>"$out.err" || true
    cat "$out.err" >&2
    die "iperf3 via $label ${1:-} failed"
  fi
  python3 "$here/pingpong.py" iperf-summary "$out" | awk '{print $2}'
}

measure() {  # LABEL IPERF_PORT ECHO_PORT
  local label="$1" ip="$2" ep="$3" e0 c0 e1 c1 bps json
  say "$label: iperf3 up ${SECONDS_PER_RUN}s"
  [[ $label == warren ]] && { e0=$(cpu_ticks "$(pid_of edge)"); c0=$(cpu_ticks "$(pid_of connect-iperf)"); }
  bps="$(iperf_run "$label" "$ip")"; up[$label]="$bps"
  if [[ $label == warren ]]; then
    e1=$(cpu_ticks "$(pid_of edge)"); c1=$(cpu_ticks "$(pid_of connect-iperf)")
    cpu_edge_up=$(( (e1 - e0) * 100 / hz )); cpu_conn_up=$(( (c1 - c0) * 100 / hz ))
  fi
  say "$label: iperf3 down (-R) ${SECONDS_PER_RUN}s"
  [[ $label == warren ]] && { e0=$(cpu_ticks "$(pid_of edge)"); c0=$(cpu_ticks "$(pid_of connect-iperf)"); }
  bps="$(iperf_run "$label" "$ip" -R)"; down[$label]="$bps"
  if [[ $label == warren ]]; then
    e1=$(cpu_ticks "$(pid_of edge)"); c1=$(cpu_ticks "$(pid_of connect-iperf)")
    cpu_edge_down=$(( (e1 - e0) * 100 / hz )); cpu_conn_down=$(( (c1 - c0) * 100 / hz ))
  fi
  say "$label: ping-pong $ROUNDS x ${SIZE} B"
  json="$(timeout 120 python3 "$here/pingpong.py" ping --port "$ep" --count "$ROUNDS" --warmup "$WARMUP" \
            --size "$SIZE" --timeout 100)" || die "ping-pong via $label failed"
  local a b c
  read -r a b c < <(python3 -c \
    'import json,sys; d=json.loads(sys.argv[1]); print(d["p50"], d["p90"], d["p99"])' "$json")
  p50[$label]="$a"; p90[$label]="$b"; p99[$label]="$c"
}

measure direct "$iperf_port" "$echo_port"
measure warren "$warren_iperf_port" "$warren_echo_port"
[[ "$WITH_SSH" == 1 ]] && measure "ssh -R" "$ssh_iperf_port" "$ssh_echo_port"

# ------------------------------------------------- optional: perf stat pass
perf_report=""
if [[ "$PERF" == 1 ]]; then
  if ! command -v perf >/dev/null; then
    say "BENCH_PERF=1 but perf is not installed (apt-get install linux-perf): skipped"
  else
    events="task-clock,context-switches,cpu-migrations,raw_syscalls:sys_enter"
    for sc in sendmsg recvmsg sendto recvfrom read write readv writev epoll_wait timerfd_settime futex; do
      events+=",syscalls:sys_enter_$sc"
    done
    for dir in up down; do
      flag=(); [[ $dir == down ]] && flag=(-R)
      say "perf: warren iperf3 $dir ${SECONDS_PER_RUN}s under perf stat"
      perf_pids=()
      for who in edge connect-iperf; do
        perf stat -x, -e "$events" -p "$(pid_of "$who")" -o "$tmp/perf-$dir-$who.csv" &
        perf_pids+=("$!"); pids+=("$!")
      done
      sleep 0.5
      bps="$(iperf_run "perf" "$warren_iperf_port" "${flag[@]}")"
      for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
      for p in "${perf_pids[@]}"; do timeout 10 tail --pid="$p" -f /dev/null || true; done
      mb="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"]/1e6)' \
              "$tmp/iperf-perf${flag[0]:-}.json")"
      perf_report+="$(python3 - "$dir" "$mb" "$bps" "$tmp/perf-$dir-edge.csv" "$tmp/perf-$dir-connect-iperf.csv" <<'PY'
import sys
direction, mb, bps = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def load(path):
    out = {}
    for line in open(path):
        f = line.strip().split(",")
        if len(f) < 3 or line.startswith("#"):
            continue
        try:
            out[f[2]] = float(f[0])
        except ValueError:
            pass
    return out
print(f"perf, warren {direction} ({mb:.0f} MB at {bps/8e6:.0f} MB/s): per MB moved")
for who, path in (("edge", sys.argv[4]), ("connector", sys.argv[5])):
    d = load(path)
    parts = [f"cpu {d.get('task-clock', 0)/mb:.2f} ms/MB", f"ctx-sw {d.get('context-switches', 0)/mb:.1f}",
             f"syscalls {d.get('raw_syscalls:sys_enter', 0)/mb:.1f}"]
    for k, v in sorted(d.items()):
        if k.startswith("syscalls:sys_enter_") and v:
            parts.append(f"{k[len('syscalls:sys_enter_'):]} {v/mb:.1f}")
    print(f"  {who:9s} " + ", ".join(parts))
PY
)"$'\n'
    done
  fi
fi

# --------------------------------------------------------------------- report
paths=(direct warren); [[ "$WITH_SSH" == 1 ]] && paths+=("ssh -R")
run_secs=$((SECONDS_PER_RUN + 1))   # iperf3 -O 1 adds one omitted second
for p in "${paths[@]}"; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "${up[$p]}" "${down[$p]}" "${p50[$p]}" "${p90[$p]}" "${p99[$p]}"
done >"$tmp/results.tsv"
python3 - "$tmp/results.tsv" "$ROUNDS" "$SIZE" "$SECONDS_PER_RUN" "$(nproc)" \
      "$cpu_edge_up" "$cpu_conn_up" "$cpu_edge_down" "$cpu_conn_down" "$run_secs" "${ssh_cipher:-}" "$busy_before" <<'PY'
import sys
results, rounds, size, secs, ncpu = sys.argv[1:6]
ce_up, cc_up, ce_dn, cc_dn, run_secs = (int(x) for x in sys.argv[6:11])
cipher = sys.argv[11]
busy = int(sys.argv[12])
rows = []
for line in open(results):
    name, up, down, p50, p90, p99 = line.rstrip("\n").split("\t")
    rows.append((name, float(up), float(down), float(p50), float(p90), float(p99)))
d = rows[0]
hdr = ["path", "up MB/s", "down MB/s", "up Gbit/s", "down Gbit/s", "ratio up", "ratio down",
       "rtt p50 us", "p90 us", "p99 us", "added p50 us"]
table = []
for name, up, down, p50, p90, p99 in rows:
    table.append([name, f"{up/8e6:.0f}", f"{down/8e6:.0f}", f"{up/1e9:.2f}", f"{down/1e9:.2f}",
                  f"{up/d[1]:.3f}", f"{down/d[2]:.3f}", f"{p50:.1f}", f"{p90:.1f}", f"{p99:.1f}",
                  "-" if name == "direct" else f"{p50 - d[3]:+.1f}"])
w = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(hdr)]
fmt = lambda r: " | ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r))
print()
print(f"warren bench: iperf3 {secs}s per direction (+1s omitted), {rounds} x {size} B ping-pong round trips, {ncpu} CPUs"
      + (f", ssh cipher {cipher}" if cipher else ""))
print(fmt(hdr))
print("-+-".join("-" * x for x in w))
for r in table:
    print(fmt(r))
print()
print(f"warren CPU during iperf3 (% of one core over {run_secs}s): "
      f"up: edge {ce_up/run_secs:.0f}%, connector {cc_up/run_secs:.0f}%; "
      f"down: edge {ce_dn/run_secs:.0f}%, connector {cc_dn/run_secs:.0f}%")
w_row = next(r for r in rows if r[0] == "warren")
ratio = min(w_row[1] / d[1], w_row[2] / d[2])
added = w_row[3] - d[3]
print(f"goal: warren throughput >= 0.30x direct loopback: {'MET' if ratio >= 0.30 else 'NOT MET'} "
      f"(worst direction {ratio:.3f}x)")
print(f"goal: warren added median latency <= 60 us:      {'MET' if added <= 60 else 'NOT MET'} "
      f"({added:+.1f} us)")
if busy > 15:
    print(f"note: the machine was {busy}% busy before the run started; figures are noisy")
s_row = next((r for r in rows if r[0] == "ssh -R"), None)
if s_row:
    print(f"warren vs ssh -R: throughput up {w_row[1]/s_row[1]:.2f}x, down {w_row[2]/s_row[2]:.2f}x; "
          f"added p50 latency {added:+.1f} us vs {s_row[3] - d[3]:+.1f} us")
PY
[[ -n "$perf_report" ]] && { echo; printf '%s' "$perf_report"; }
exit 0
