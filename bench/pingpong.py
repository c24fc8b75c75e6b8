#!/usr/bin/env python3
"""Tiny helpers for bench/run.sh (loopback only).

  pingpong.py freeport [N]            print N free loopback TCP ports, one a line
  pingpong.py echo --port-file FILE   run a TCP echo server on 127.0.0.1:0, write its port to FILE
  pingpong.py ping --port P [--count N] [--warmup W] [--size B] [--timeout S]
                                      ping-pong B-byte messages over one TCP connection,
                                      print JSON {p50, p90, p99, mean, min, max} in microseconds
  pingpong.py wait --port P [--timeout S] [--listen-only]
                                      wait until 127.0.0.1:P accepts a connection (exit 1 on deadline);
                                      --listen-only checks /proc/net/tcp for a listener instead of
                                      connecting (for services that would take a probe as a client)
  pingpong.py iperf-summary FILE      print "<sent bits/s> <received bits/s>" from an iperf3 -J file

TCP_NODELAY is set on every socket. The python overhead is part of every path
and is measured on its own by the direct path; bench/run.sh reports latency
added over direct.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def nodelay(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def echo_conn(conn):
    try:
        nodelay(conn)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()


def echo_server(port_file):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.getsockname()[1]}\n")
    os.replace(tmp, port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=echo_conn, args=(conn,), daemon=True).start()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed mid-message")
        buf += chunk
    return bytes(buf)


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def ping(port, count, warmup, size, timeout):
    deadline = time.monotonic() + timeout
    s = socket.create_connection(("127.0.0.1", port), timeout=min(timeout, 10))
    nodelay(s)
    s.settimeout(max(1.0, min(10.0, timeout)))
    msg = bytes((i * 7) & 0xFF for i in range(size))
    samples = []
    for i in range(warmup + count):
        if time.monotonic() > deadline:
            raise TimeoutError(f"ping-pong deadline of {timeout}s passed after {i} round trips")
        t0 = time.perf_counter_ns()
        s.sendall(msg)
        back = recv_exact(s, size)
        t1 = time.perf_counter_ns()
        if back != msg:
            raise ValueError("echo returned different bytes")
        if i >= warmup:
            samples.append((t1 - t0) / 1000.0)
    s.close()
    samples.sort()
    out = {
        "count": len(samples),
        "p50": percentile(samples, 50),
        "p90": percentile(samples, 90),
        "p99": percentile(samples, 99),
        "mean": sum(samples) / len(samples),
        "min": samples[0],
        "max": samples[-1],
    }
    print(json.dumps(out))


def listening(port):
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[1].endswith(want) and cols[3] == "0A":  # 0A = LISTEN
                        return True
        except OSError:
            pass
    return False


def wait_port(port, timeout, listen_only):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listen_only:
            if listening(port):
                return 0
        else:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return 0
            except OSError:
                pass
        time.sleep(0.05)
    return 1


def iperf_summary(path):
    with open(path) as f:
        doc = json.load(f)
    if "error" in doc:
        print(f"iperf3 error: {doc['error']}", file=sys.stderr)
        return 1
    end = doc["end"]
    print(f"{end['sum_sent']['bits_per_second']:.0f} {end['sum_received']['bits_per_second']:.0f}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("freeport")
    p.add_argument("n", nargs="?", type=int, default=1)
    p = sub.add_parser("echo")
    p.add_argument("--port-file", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("wait")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--listen-only", action="store_true")
    p = sub.add_parser("iperf-summary")
    p.add_argument("file")
    a = ap.parse_args()
    if a.cmd == "freeport":
        print("\n".join(str(x) for x in free_ports(a.n)))
        return 0
    if a.cmd == "echo":
        echo_server(a.port_file)
        return 0
    if a.cmd == "ping":
        ping(a.port, a.count, a.warmup, a.size, a.timeout)
        return 0
    if a.cmd == "wait":
        return wait_port(a.port, a.timeout, a.listen_only)
    if a.cmd == "iperf-summary":
        return iperf_summary(a.file)
    return 2


if __name__ == "__main__":
    sys.exit(main())
