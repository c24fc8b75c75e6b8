#!/usr/bin/env python3
"""UDP echo service and the UDP clients of bench/run.py's udp figures.

  udp_tool.py echo --bind HOST:PORT          prints "udp echo PORT", echoes every datagram to its sender
  udp_tool.py pingpong --to HOST:PORT --count N --warmup W [--size 64]
      one socket, one datagram in flight: a JSON line {count, lost, p50, p90, p99, mean, min, max} (us)
  udp_tool.py rate --to HOST:PORT --size B --rates R1,R2,... --seconds S
      one socket; per rate, S seconds of datagrams paced every millisecond, then the echoes counted:
      a JSON line per step {rate, sent, echoed, loss_percent, echoed_per_s}; it stops climbing
      after the first step with loss_percent >= --stop-loss (default 5), then halves the gap between the
      highest rate under --ok-loss (1 %) and the lowest over it --refine times (default 2)

Python is enough here: the bench checks that the direct path (the same clients, no tunnel) is well
above the tunnel paths. Each datagram carries an 8-byte step + 8-byte sequence number, so echoes
of an earlier step (late ones) and duplicates are not counted.
"""
import argparse
import json
import select
import socket
import struct
import sys
import time

HEAD = struct.Struct("!QQ")  # step, sequence


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def echo(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind(addr(a.bind))
    print(f"udp echo {s.getsockname()[1]}", flush=True)
    recvfrom, sendto = s.recvfrom, s.sendto
    while True:
        data, peer = recvfrom(65535)
        try:
            sendto(data, peer)
        except OSError:
            pass  # a full send buffer drops the echo, as UDP would


def client_socket(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.connect(addr(a.to))
    return s


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def pingpong(a):
    s = client_socket(a)
    pad = b"x" * max(0, a.size - HEAD.size)
    samples, lost = [], 0
    # The first datagram opens the flow (the connector opens its backend socket): answered before timing starts.
    for seq in range(a.count + a.warmup):
        msg = HEAD.pack(0, seq) + pad
        t0 = time.perf_counter_ns()
        s.send(msg)
        deadline = time.monotonic() + (5.0 if seq == 0 else 1.0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                lost += seq >= a.warmup
                break
            data = s.recv(65535)
            if data[:HEAD.size] == msg[:HEAD.size]:
                if seq >= a.warmup:
                    samples.append((time.perf_counter_ns() - t0) / 1000)
                break
    samples.sort()
    out = {"count": len(samples), "lost": lost}
    if samples:
        out.update(p50=percentile(samples, 50), p90=percentile(samples, 90), p99=percentile(samples, 99),
                   mean=sum(samples) / len(samples), min=samples[0], max=samples[-1])
    print(json.dumps(out), flush=True)
    return 0 if samples else 1


def drain(s, step, seen):
    """Reads every echo waiting on s; counts those of this step once each."""
    while True:
        try:
            data = s.recv(65535)
        except BlockingIOError:
            return
        if len(data) >= HEAD.size:
            st, seq = HEAD.unpack_from(data)
            if st == step:
                seen.add(seq)


def rate_step(s, step, rate, seconds, size, linger):
    pad = b"x" * max(0, size - HEAD.size)
    seen, sent, dropped_local = set(), 0, 0
    t0 = time.monotonic()
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = min(int((now - t0) * rate) + 1, int(seconds * rate)) - sent
        for _ in range(due):
            try:
                s.send(HEAD.pack(step, sent) + pad)
            except (BlockingIOError, ConnectionRefusedError):
                dropped_local += 1  # counted as sent: it is a datagram the path did not echo
            sent += 1
        drain(s, step, seen)
        # sleep until the next millisecond's batch, reading echoes meanwhile
        select.select([s], [], [], 0.001)
    late = time.monotonic() + linger
    while time.monotonic() < late:
        select.select([s], [], [], 0.01)
        drain(s, step, seen)
    echoed = len(seen)
    return {"rate": rate, "size": size, "sent": sent, "echoed": echoed, "not_sent": dropped_local,
            "loss_percent": 100.0 * (sent - echoed) / sent if sent else None, "echoed_per_s": echoed / seconds}


def rate(a):
    s = client_socket(a)
    s.setblocking(False)
    # open the flow first (answered), so the first step does not meet a backend socket still opening
    s.send(HEAD.pack(0, 0))
    if not select.select([s], [], [], 5.0)[0]:
        print(json.dumps({"error": "the first datagram was not echoed within 5 s"}), flush=True)
        return 1
    drain(s, 0, set())
    step = 0

    def run(r):
        nonlocal step
        step += 1
        out = rate_step(s, step, r, a.seconds, a.size, a.linger)
        print(json.dumps(out), flush=True)
        return out["loss_percent"] is not None and out["loss_percent"] < a.ok_loss, out

    good, bad = None, None
    for r in (int(x) for x in a.rates.split(",") if x):
        ok, out = run(r)
        if ok:
            good = r
        elif bad is None:
            bad = r
        if out["loss_percent"] is None or out["loss_percent"] >= a.stop_loss:
            break
    # between the highest rate under --ok-loss and the first one over it: halve the gap --refine times
    for _ in range(a.refine if good and bad and bad > good else 0):
        mid = (good + bad) // 2
        if mid in (good, bad):
            break
        ok, _ = run(mid)
        good, bad = (mid, bad) if ok else (good, mid)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--bind", default="127.0.0.1:0")
    p = sub.add_parser("pingpong")
    p.add_argument("--to", required=True)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--size", type=int, default=64)
    r = sub.add_parser("rate")
    r.add_argument("--to", required=True)
    r.add_argument("--size", type=int, default=1200)
    r.add_argument("--rates", default="1000,2000,5000,10000,20000,50000,100000")
    r.add_argument("--seconds", type=float, default=2.0)
    r.add_argument("--linger", type=float, default=0.3, help="seconds after the last send to read late echoes")
    r.add_argument("--stop-loss", type=float, default=5.0, help="percent lost that ends the climb")
    r.add_argument("--ok-loss", type=float, default=1.0, help="percent lost under which a rate is carried")
    r.add_argument("--refine", type=int, default=2, help="steps that halve the gap between carried and not")
    a = ap.parse_args(argv)
    return {"echo": echo, "pingpong": pingpong, "rate": rate}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
