"""One figure each: bench/run.py calls these with a path's public addresses.

Each returns a dict of numbers (units in the key names) or raises BenchError.
Clients run in the public-side namespace (None on loopback).
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

from procs import BenchError, cpu_seconds, open_fds, rss_kib


def iperf(procs, ns, host, port, seconds, reverse, cpu_pids):
    """One iperf3 stream for `seconds` (+1 omitted); CPU of cpu_pids() per GB moved."""
    pids = cpu_pids() if cpu_pids else []
    cpu0 = cpu_seconds(pids)
    argv = ["iperf3", "-c", host, "-p", str(port), "-t", str(seconds), "-O", "1", "-J", "--connect-timeout", "5000"]
    if reverse:
        argv.append("-R")
    r = procs.run(argv, ns=ns, timeout=seconds + 30, check=False)
    cpu = cpu_seconds(pids) - cpu0
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        raise BenchError(f"iperf3 to {host}:{port}: no JSON ({r.stderr.strip()[-300:]})")
    if "error" in doc or r.returncode != 0:
        raise BenchError(f"iperf3 to {host}:{port}: {doc.get('error', r.stderr.strip()[-300:])}")
    moved = sum(i["sum"]["bytes"] for i in doc["intervals"])  # with the omitted second: CPU counts it too
    out = {"gbit_s": doc["end"]["sum_received"]["bits_per_second"] / 1e9, "bytes": moved}
    if pids:
        out["cpu_s"] = cpu
        out["cpu_s_per_gb"] = cpu / (moved / 1e9) if moved else None
    return out


def latency(procs, client, ns, mode, host, port, count, warmup, size=64):
    """warren-bench-client pingpong|ttfb: {count, p50, p90, p99, mean, min, max} in microseconds."""
    argv = [client, mode, "--to", f"{host}:{port}", "--count", str(count), "--warmup", str(warmup)]
    if mode == "pingpong":
        argv += ["--size", str(size)]
    r = procs.run(argv, ns=ns, timeout=120)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError(f"{mode} to {host}:{port} printed no summary: {r.stdout[-200:]} {r.stderr[-200:]}")


def conns_per_second(procs, ns, host, port, seconds, connections, threads=2, cpu_pids=None):
    """wrk with Connection: close: every request is a new TCP connection through the path.

    With cpu_pids (() -> pids of the tunnel's own processes for this service), also the CPU
    microseconds (user + system) those processes spent per connection."""
    pids = cpu_pids() if cpu_pids else []
    cpu0 = cpu_seconds(pids)
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "3s",
            "-H", "Connection: close", f"http://{host}:{port}/"]
    r = procs.run(argv, ns=ns, timeout=seconds + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    if not m:
        raise BenchError(f"wrk printed no Requests/sec: {r.stdout[-400:]}")
    errors = 0
    s = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", r.stdout)
    if s:
        errors += sum(int(x) for x in s.groups())
    n = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    if n:
        errors += int(n.group(1))
    total = re.search(r"(\d+) requests in", r.stdout)
    out = {"per_s": float(m.group(1)), "errors": errors, "requests": int(total.group(1)) if total else None}
    if pids and out["requests"]:
        out["cpu_us_per_conn"] = (cpu_seconds(pids) - cpu0) * 1e6 / out["requests"]
    return out


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} within {timeout} s")
        time.sleep(0.1)


def _open_idle(port, count, batch, settled, touch):
    """count TCP connections to 127.0.0.1:port that never send, opened batch by batch: a batch
    starts once settled(opened) says the previous one reached the far side, so no listen queue
    (sshd's is 128) overflows and silently drops a connection the client thinks is open."""
    socks = []
    try:
        while len(socks) < count:
            fresh = [socket.create_connection(("127.0.0.1", port), timeout=5)
                     for _ in range(min(batch, count - len(socks)))]
            socks += fresh
            if touch:  # `touch` bytes through the echo backend and back, then idle
                for s in fresh:
                    s.sendall(b"x" * touch)
                for s in fresh:
                    got = 0
                    while got < touch:
                        chunk = s.recv(touch - got)
                        if not chunk:
                            raise OSError("echo closed")
                        got += len(chunk)
            settled(len(socks))
    except OSError as e:
        for s in socks:
            s.close()
        raise BenchError(f"idle connection {len(socks) + 1} to port {port}: {e}")
    return socks


def memory(port, sides, counts, after_wait, tag, touch=0, batch=100):
    """RSS of the two sides idle, per open idle stream at each count, and after_wait s after the last.

    sides: {"edge": pids_fn, "connector": pids_fn}; the connector side's descriptor count tells
    when the streams reached it (each opens one backend connection). Loopback only.
    """
    rss = lambda side: sum(rss_kib(p) for p in sides[side]())
    fds = lambda: sum(open_fds(p) for p in sides["connector"]())
    time.sleep(1.0)  # let start-up allocations settle
    out = {"idle_kib": {s: rss(s) for s in sides}}
    base_fds = fds()
    for n in counts:
        settled = lambda k: _wait(lambda: fds() >= base_fds + k, 30,
                                  f"{tag}: {k} idle streams did not reach the connector side")
        socks = _open_idle(port, n, batch, settled, touch)
        time.sleep(1.0)
        now = {s: rss(s) for s in sides}
        out[f"at_{n}"] = {"held": len(socks), "rss_kib": now,
                          "per_stream_kib": {s: (now[s] - out["idle_kib"][s]) / n for s in sides}}
        for s in socks:
            s.close()
        _wait(lambda: fds() <= base_fds + max(20, n // 100), 90, f"{tag}: the {n} streams did not close")
        if n == counts[-1] and after_wait:
            time.sleep(after_wait)
            out["after_kib"] = {"seconds": after_wait, **{s: rss(s) for s in sides}}
        else:
            time.sleep(1.0)
    return out


UDP_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_tool.py")
UDP_LOSS_OK = 1.0  # percent: the rate figure is the highest step below it


def udp_pingpong(procs, ns, host, port, count, warmup, size=64):
    """bench/udp_tool.py pingpong: one datagram in flight; {count, lost, p50, p99, ...} in microseconds."""
    argv = [sys.executable, UDP_TOOL, "pingpong", "--to", f"{host}:{port}", "--count", str(count),
            "--warmup", str(warmup), "--size", str(size)]
    r = procs.run(argv, ns=ns, timeout=60 + count // 500, check=False)
    try:
        out = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchError(f"udp pingpong to {host}:{port} printed no summary: {r.stdout[-200:]} {r.stderr[-300:]}")
    if not out.get("count"):
        raise BenchError(f"udp pingpong to {host}:{port}: no datagram came back ({out})")
    return out


def udp_rate(procs, ns, host, port, size, rates, seconds, cpu_pids=None, drops=None):
    """bench/udp_tool.py rate: climbs `rates` (datagrams/s sent, paced per millisecond) until loss >= 5 %,
    then halves the gap between the highest rate with < 1 % lost and the lowest above it twice.

    Returns every step, and the best one: the highest rate whose echoes came back with < 1 % lost, with the
    CPU seconds (user + system) of cpu_pids() per 100k echoed datagrams at that step (each crossed twice).
    With drops (() -> {counter: value}), each step also has the counters that grew during it ("drops")."""
    pids = cpu_pids() if cpu_pids else []
    argv = [sys.executable, UDP_TOOL, "rate", "--to", f"{host}:{port}", "--size", str(size),
            "--rates", ",".join(map(str, rates)), "--seconds", str(seconds), "--ok-loss", str(UDP_LOSS_OK)]
    # the tool prints a line per step as it ends: read them as they come to read the CPU per step
    p = subprocess.Popen(procs._argv(argv, ns), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    steps, cpu0, drops0 = [], cpu_seconds(pids), drops() if drops else {}
    try:
        for line in p.stdout:
            cpu1 = cpu_seconds(pids)
            step = json.loads(line)
            if "error" in step:
                raise BenchError(f"udp rate to {host}:{port}: {step['error']}")
            step["cpu_s"] = cpu1 - cpu0
            if drops:
                drops1 = drops()
                # a counter that fell belongs to a socket that closed (or ss did not name its process): left out
                step["drops"] = {k: v - drops0.get(k, 0) for k, v in drops1.items() if v > drops0.get(k, 0)}
                drops0 = drops1
            steps.append(step)
            cpu0 = cpu1
        p.wait(timeout=30)
    except (ValueError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"udp rate to {host}:{port}: {e} {p.stderr.read()[-300:] if p.stderr else ''}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
    if not steps:
        raise BenchError(f"udp rate to {host}:{port} printed nothing: {p.stderr.read()[-300:]}")
    good = [s for s in steps if s["loss_percent"] is not None and s["loss_percent"] < UDP_LOSS_OK]
    out = {"steps": steps, "size": size}
    if good:
        best = max(good, key=lambda s: s["rate"])
        out.update(rate=best["rate"], echoed_per_s=best["echoed_per_s"], loss_percent=best["loss_percent"])
        if pids and best["echoed"]:
            out["cpu_s_per_100k"] = best["cpu_s"] * 1e5 / best["echoed"]
    # where the lowest rate that lost >= 1 % above the best one lost its datagrams
    lossy = [s for s in steps if s["loss_percent"] is not None and s["loss_percent"] >= UDP_LOSS_OK
             and s["rate"] > out.get("rate", 0)]
    if lossy:
        first = min(lossy, key=lambda s: s["rate"])
        out["lossy_rate"], out["lossy_drops"] = first["rate"], first.get("drops")
    return out


def drops_text(rate, drops):
    """"at 15,000/s: rcvbuf private 442, connector transport 12, edge send_failed 3" from a step's grown
    drop counters."""
    if drops is None:
        return None
    names = lambda k: k.replace("kernel_", "rcvbuf ").replace("_RcvbufErrors", "").replace("_SndbufErrors", " (send)") \
        .replace("edge_", "edge ").replace("connector_", "connector ")
    parts = [f"{names(k)} {int(v):,}" for k, v in sorted(drops.items(), key=lambda kv: -kv[1])
             if not k.startswith("socket_")]
    sockets = [(k[7:].rsplit("_rb", 1), v) for k, v in sorted(drops.items(), key=lambda kv: -kv[1])
               if k.startswith("socket_")]
    parts += [f"{role}'s {rb[:-1]} KiB-buffer sockets {int(v):,}" for (role, rb), v in sockets]
    return f"at {rate:,}/s: " + (", ".join(parts) if parts else "none counted")
