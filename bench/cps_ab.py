#!/usr/bin/env python3
"""New connections per second and time to first byte, build A against build B, back to back.

On a shared machine one run of bench/run.py cannot tell a 10 % lever from the
neighbours' load. This runs the same wrk load (Connection: close, to one nginx)
against the direct path and against one edge + connector per build, in
alternating rounds, and prints medians of:
  - connections per second (wrk) and its error count,
  - CPU microseconds per connection of the edge, the connector and nginx
    (user + system from /proc over the wrk run, divided by the requests),
  - with --instructions, instructions per connection of the edge and the
    connector (`perf stat -e instructions -p PID` over the wrk run): load on
    the other cores moves this far less than time (needs a PMU: under KVM
    without one perf says <not supported> and the rows read 0),
  - with --syscalls N, system calls per connection of the edge and the
    connector by name (`strace -c -f -p PID` over N sequential connections,
    after the rounds): exact, whatever the load,
  - time to first byte p50 / p99 (warren-bench-client ttfb, sequential).
Loopback only; QUIC by default. Needs no root.

  bench/cps_ab.py --build A=/tmp/cps-A --build B=build --rounds 5
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import paths  # noqa: E402
from procs import BenchError, Procs, cpu_seconds, descendants, raise_nofile  # noqa: E402


def perf_instructions(pids, seconds_fn):
    """Runs seconds_fn() while `perf stat` counts the instructions of each pid; {pid: count}."""
    stats = {}
    for pid in pids:
        stats[pid] = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "instructions:u,instructions:k", "-p",
                                       str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        result = seconds_fn()
    finally:
        counts = {}
        for pid, p in stats.items():
            p.send_signal(2)
            _, err = p.communicate(timeout=10)
            total = 0
            for line in err.splitlines():
                fields = line.split(",")
                if len(fields) > 2 and fields[2].startswith("instructions") and fields[0].isdigit():
                    total += int(fields[0])
            counts[pid] = total
    return result, counts


def syscalls_per_connection(a, procs, path, count):
    """strace -c on the edge and the connector over `count` sequential connections; {side: {call: per conn}}."""
    host, port = path.public["http"]
    out = {}
    tracers = {}
    for side, pids in (("edge", path.edge_pids()), ("connector", path.connector_pids())):
        argv = (["strace", "-f", "-ttt", "-o", f"{a.trace}.{side}"] if a.trace else
                ["strace", "-c", "-f", "-U", "name,calls"])
        for pid in pids:
            argv += ["-p", str(pid)]
        tracers[side] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # strace attaches to every thread
        measure.latency(procs, a.client, None, "ttfb", host, port, count, 1)
    finally:
        for side, p in tracers.items():
            p.send_signal(2)
            _, err = p.communicate(timeout=20)
            calls = {}
            for line in err.splitlines():
                m = re.match(r"\s*(\w+)\s+(\d+)\s*$", line)
                if m and m.group(1) not in ("total", "syscall"):
                    calls[m.group(1)] = int(m.group(2)) / (count + 1)
            out[side] = calls
    return out


def one_round(a, procs, label, path, nginx_pid, results):
    host, port = path.public["http"]
    pids = {"nginx": [nginx_pid] + descendants(nginx_pid)}
    if path.edge_pids:
        pids["edge"] = path.edge_pids()
        pids["connector"] = path.connector_pids()
    before = {k: cpu_seconds(v) for k, v in pids.items()}

    def run_wrk():
        return measure.conns_per_second(procs, None, host, port, a.seconds, a.concurrency)

    if a.instructions and path.edge_pids:
        r, counts = perf_instructions(pids["edge"] + pids["connector"], run_wrk)
    else:
        r, counts = run_wrk(), {}
    after = {k: cpu_seconds(v) for k, v in pids.items()}
    n = r["requests"] or 1
    row = {"cps": r["per_s"], "errors": r["errors"]}
    for k in pids:
        row[f"{k}_us"] = (after[k] - before[k]) * 1e6 / n
    if counts:
        row["edge_kinstr"] = sum(counts[p] for p in pids["edge"]) / n / 1000
        row["connector_kinstr"] = sum(counts[p] for p in pids["connector"]) / n / 1000
    if a.ttfb:
        t = measure.latency(procs, a.client, None, "ttfb", host, port, a.ttfb, max(10, a.ttfb // 20))
        row["ttfb_p50"], row["ttfb_p99"] = t["p50"], t["p99"]
    results.setdefault(label, []).append(row)
    print(f"  {label:8} " + "  ".join(f"{k} {v:,.1f}" for k, v in row.items()), file=sys.stderr, flush=True)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="append", default=[], help="LABEL=BUILD_DIR (bin/warren under it); repeat")
    ap.add_argument("--transport", default="quic")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=3, help="wrk seconds per round")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--ttfb", type=int, default=300, help="sequential connections for TTFB per round (0: skip)")
    ap.add_argument("--instructions", action="store_true", help="count instructions per connection with perf stat")
    ap.add_argument("--no-direct", action="store_true")
    ap.add_argument("--client", help="warren-bench-client (default: the first build's tests/bin)")
    ap.add_argument("--syscalls", type=int, default=0, help="count system calls over N sequential connections")
    ap.add_argument("--trace", help="with --syscalls: write the timed system calls to TRACE.edge / TRACE.connector")
    ap.add_argument("--profile", help="perf record -e cpu-clock the edge and the connector of the last build during "
                                      "one more wrk run: PROFILE.edge.data / PROFILE.connector.data")
    a = ap.parse_args(argv)
    builds = [b.split("=", 1) for b in a.build]
    if not builds:
        ap.error("give at least one --build LABEL=DIR")
    clients = [os.path.join(b, "tests", "bin", "warren-bench-client") for _, b in builds]
    a.client = a.client or next((c for c in clients if os.access(c, os.X_OK)), None)
    if not a.client:
        ap.error("no build has tests/bin/warren-bench-client")
    raise_nofile()
    tmp = tempfile.mkdtemp(prefix="warren-cps-ab.")
    procs = Procs(tmp)
    net = paths.Net("loopback")
    results = {}
    try:
        services = paths.start_services(procs, tmp, net, a.client)
        nginx = next(p for name, p in procs.started if name.endswith("-nginx"))
        targets = [] if a.no_direct else [("direct", paths.direct_path(net, {"http": services["http"]}))]
        for label, build in builds:
            warren = os.path.join(build, "bin", "warren")
            p = paths.start_warren(procs, tmp, warren, net, a.transport, {"http": services["http"]}, f"ab-{label}")
            targets.append((label, p))
        for i in range(a.rounds):
            print(f"round {i + 1}/{a.rounds}", file=sys.stderr, flush=True)
            order = targets if i % 2 == 0 else targets[::-1]  # neither build always runs right after direct
            for label, path in order:
                one_round(a, procs, label, path, nginx.pid, results)
        if a.profile:
            label, path = targets[-1]
            recorders = [subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-g", "-o",
                                           f"{a.profile}.{side}.data", "-p", ",".join(map(str, pids()))],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                         for side, pids in (("edge", path.edge_pids), ("connector", path.connector_pids))]
            time.sleep(0.5)
            measure.conns_per_second(procs, None, *path.public["http"], a.seconds, a.concurrency)
            for r in recorders:
                r.send_signal(2)
                r.wait(timeout=60)
        if a.syscalls:
            for label, path in targets:
                if not path.edge_pids:
                    continue
                calls = syscalls_per_connection(a, procs, path, a.syscalls)
                for side, per in calls.items():
                    total = sum(per.values())
                    top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])[:12])
                    print(f"syscalls per connection, {label} {side}: {total:.1f} ({top})")
    except BenchError as e:
        print(f"cps_ab: {e}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
    keys = ["cps", "errors", "edge_us", "connector_us", "nginx_us", "edge_kinstr", "connector_kinstr", "ttfb_p50",
            "ttfb_p99"]
    print("| median | " + " | ".join(results) + " |")
    print("|---|" + "--:|" * len(results))
    for k in keys:
        cells = []
        for label, rows in results.items():
            vals = [r[k] for r in rows if k in r]
            cells.append(f"{statistics.median(vals):,.1f}" if vals else "-")
        print(f"| {k} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
