#!/usr/bin/env python3
"""Memory of a real edge + connector pair on loopback (issue 9, "memory").

Starts an echo backend (warren-loadgen echo), an edge with its stream and
admission limits raised, and one connector; then, for each stream count:
  idle    VmRSS of edge and connector once the tunnel is up and quiet;
  held    VmRSS while warren-loadgen idle holds N public connections open
          (each one a QUIC stream and a backend connection), measured once
          both processes hold all N sockets;
  after   VmRSS 15 s after those connections closed (both processes back
          to their idle socket count).
growth per stream = (held - idle) / N.

Usage:  bench/memory.py [--build-dir build] [--streams 1000,10000] [--json FILE]
        [--after-seconds 15] [--log-level LEVEL] [--keep] [--preload LIB]
Library: measure(build_dir, streams) -> dict (one stream count, fresh processes).
Every wait has a deadline; every process started is stopped, also on error.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

GOALS = {"idle_mib": 8.0, "per_stream_kib": 16.0, "after_over_idle": 2.0}


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    """A /proc/PID/status field in KiB (VmRSS, VmHWM, RssAnon...) or a count (Threads)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for(what, predicate, timeout, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited with {p.returncode} while waiting for {what}")
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


class Run:
    """The processes of one measurement; stop() ends all of them."""

    def __init__(self, build_dir, log_level=None, preload=None):
        self.build_dir = os.path.abspath(build_dir)
        self.warren = os.path.join(self.build_dir, "bin", "warren")
        self.loadgen = os.path.join(self.build_dir, "tests", "bin", "warren-loadgen")
        for exe in (self.warren, self.loadgen):
            if not os.access(exe, os.X_OK):
                raise RuntimeError(f"missing {exe} (build warren and warren-loadgen first)")
        self.tmp = tempfile.mkdtemp(prefix="warren-memory-")
        self.procs = []
        self.flags = ["--log-level", log_level] if log_level else []
        self.preload = preload  # LD_PRELOAD for edge and connector (another malloc, for comparison)

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, name + ".log"), "w+")
        env = dict(os.environ)
        if self.preload and name in ("edge", "connector"):
            env["LD_PRELOAD"] = self.preload
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        self.procs.append((name, p, log))
        return p

    def log_text(self, name):
        with open(os.path.join(self.tmp, name + ".log")) as f:
            return f.read()

    def wait_line(self, name, pattern, timeout):
        p = next(p for n, p, _ in self.procs if n == name)
        rx = re.compile(pattern, re.M)
        m = wait_for(f"'{pattern}' from {name}", lambda: rx.search(self.log_text(name)), timeout, [(name, p)])
        return m

    def stop(self, name=None):
        for n, p, log in reversed(self.procs):
            if name is not None and n != name:
                continue
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
            log.close()
        self.procs = [t for t in self.procs if name is not None and t[0] != name]

    def cleanup(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def setup(run, streams):
    """Echo backend, edge, connector; returns (edge pid, connector pid, public port)."""
    backend_port = free_port()
    public_port = free_port()
    limit = max(streams * 2, 1024)
    run.start("backend", [run.loadgen, "echo", "--port", str(backend_port), "--seconds", "3600"])
    wait_for("the echo backend", lambda: _listening(backend_port), 10)
    state = os.path.join(run.tmp, "edge-state")
    os.makedirs(state)
    edge_toml = write(os.path.join(run.tmp, "edge.toml"), f"""
[edge]
id = "memory"
state_dir = "{state}"
public_host = "127.0.0.1"
public_ports = "{public_port}-{public_port}"
max_streams_per_tunnel = {limit}
max_streams_total = {limit}
max_connections_per_source = {limit}
max_connection_rate_per_source = {limit}
connection_burst_per_source = {limit}

[[listen]]
plugin = "quic"
address = "127.0.0.1:0"
max_streams = {limit}

[[tunnels]]
id = "memory"
token = "memory-token"
public_port = {public_port}
""")
    edge = run.start("edge", [run.warren, *run.flags, "edge", "--config", edge_toml])
    quic_addr = run.wait_line("edge", r"^listen quic (\S+)", 30).group(1)
    pin = run.wait_line("edge", r"^pin (\S+)", 30).group(1)
    connect_toml = write(os.path.join(run.tmp, "connect.toml"), f"""
[tunnel]
id = "memory"
token = "memory-token"
edge_fingerprint = "{pin}"
grace_period = "1s"

[[transport]]
plugin = "quic"
max_streams = {limit}

[discovery]
plugin = "static"
edges = ["{quic_addr}"]

[backend]
plugin = "tcp"
address = "127.0.0.1:{backend_port}"

[[policy]]
plugin = "backoff"
""")
    connector = run.start("connector", [run.warren, *run.flags, "connect", "--config", connect_toml])
    run.wait_line("connector", r"^tunnel memory ", 30)
    wait_for("the public port", lambda: _listening(public_port), 10)
    return edge.pid, connector.pid, public_port


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def sample(pids):
    out = {}
    for name, pid in pids.items():
        out[name] = {
            "rss_kib": status_kib(pid, "VmRSS"),
            "anon_kib": status_kib(pid, "RssAnon"),
            "hwm_kib": status_kib(pid, "VmHWM"),
            "threads": status_kib(pid, "Threads"),
            "fds": fd_count(pid),
        }
    return out


def settle(pids, seconds=1.0, timeout=20):
    """Waits until VmRSS of every pid is unchanged (within 64 KiB) for `seconds`."""
    deadline = time.monotonic() + timeout
    last = {n: status_kib(p, "VmRSS") for n, p in pids.items()}
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = {n: status_kib(p, "VmRSS") for n, p in pids.items()}
        if any(abs(now[n] - last[n]) > 64 for n in now):
            stable_since = time.monotonic()
        last = now
        if time.monotonic() - stable_since >= seconds:
            return


def measure(build_dir, streams, after_seconds=15.0, log_level=None, keep=False, preload=None):
    """One measurement with fresh processes; figures in KiB (RSS) and KiB per stream."""
    run = Run(build_dir, log_level, preload)
    try:
        edge, connector, public_port = setup(run, streams)
        pids = {"edge": edge, "connector": connector}
        settle(pids, seconds=2.0)
        idle = sample(pids)
        hold = max(30, int(streams / 200) + 30)
        holder = run.start("holder", [run.loadgen, "idle", "--port", str(public_port), "--count", str(streams),
                                      "--hold", str(hold)])
        held_line = run.wait_line("holder", r"^held (\d+)", hold)
        established = int(held_line.group(1))
        # Every public connection became a socket on the edge and a backend
        # socket on the connector: wait for both before reading RSS.
        base = {n: idle[n]["fds"] for n in pids}
        want = int(established * 0.99)
        wait_for(f"{want} streams held on both sides",
                 lambda: all(fd_count(pids[n]) - base[n] >= want for n in pids), 120,
                 [(n, p) for n, p, _ in run.procs if n in pids])
        settle(pids, seconds=1.0)
        held = sample(pids)
        run.stop("holder")
        wait_for("the streams to close on both sides",
                 lambda: all(fd_count(pids[n]) - base[n] <= max(2, streams // 1000) for n in pids), 120)
        closed_at = time.monotonic()
        time.sleep(max(0.0, after_seconds - (time.monotonic() - closed_at)))
        after = sample(pids)
        result = {"streams": streams, "established": established, "after_seconds": after_seconds}
        for n in pids:
            i, h, a = idle[n], held[n], after[n]
            result[n] = {
                "idle": i,
                "held": h,
                "after": a,
                "idle_mib": round(i["rss_kib"] / 1024, 2),
                "held_mib": round(h["rss_kib"] / 1024, 2),
                "after_mib": round(a["rss_kib"] / 1024, 2),
                "per_stream_kib": round((h["rss_kib"] - i["rss_kib"]) / max(established, 1), 2),
                "after_over_idle": round(a["rss_kib"] / i["rss_kib"], 2),
            }
        return result
    finally:
        run.cleanup(keep)


def table(results):
    lines = [f"{'streams':>8} {'side':<10} {'idle MiB':>9} {'held MiB':>9} {'KiB/stream':>11} "
             f"{'after MiB':>10} {'after/idle':>10} {'threads':>7}"]
    for r in results:
        for n in ("edge", "connector"):
            s = r[n]
            lines.append(f"{r['streams']:>8} {n:<10} {s['idle_mib']:>9.1f} {s['held_mib']:>9.1f} "
                         f"{s['per_stream_kib']:>11.1f} {s['after_mib']:>10.1f} {s['after_over_idle']:>10.2f} "
                         f"{s['held']['threads']:>7}")
    lines.append(f"goals: idle <= {GOALS['idle_mib']} MiB, <= {GOALS['per_stream_kib']} KiB/stream, "
                 f"after <= {GOALS['after_over_idle']}x idle")
    return "\n".join(lines)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(here, "..", "build"))
    ap.add_argument("--streams", default="1000,10000", help="comma-separated stream counts")
    ap.add_argument("--after-seconds", type=float, default=15.0)
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    ap.add_argument("--preload", help="LD_PRELOAD for edge and connector, e.g. another malloc (comparison only)")
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",") if x]
    if max(counts) > 20000:
        ap.error("--streams: at most 20000 (warren-loadgen idle's limit)")
    results = []
    for n in counts:
        print(f"[memory] {n} streams ...", file=sys.stderr, flush=True)
        results.append(measure(args.build_dir, n, args.after_seconds, args.log_level, args.keep, args.preload))
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"[memory] error: {e}", file=sys.stderr)
        sys.exit(1)
