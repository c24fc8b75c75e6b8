#!/usr/bin/env python3
"""Bursts of new UDP flows through a udp tunnel, and where the lost datagrams went (issue 13, item 1).

  udp_burst.py load --to HOST:PORT [--flows 2000 --srcs 20 --per-flow 4 --window 4 --size 100]
      the client alone: FLOWS new flows (one connected socket each, from 127.0.0.2 .. 127.0.0.(SRCS+1)),
      PER_FLOW datagrams each, WINDOW in flight per flow, CONCURRENCY flows open at once (a flow that ends
      makes room for the next); a JSON line {sent, echoed, lost, loss_percent, sent_per_s, ...}
  udp_burst.py run --warren build/bin/warren --transport quic|http2 [load options] [--flood-seconds 8 --flood-size 60000]
      the whole path on loopback: the UDP echo (udp_tool.py echo), an edge with a kind = "udp" tunnel,
      a connector with the udp backend, both with an admin port; the load above; then the drop counters
      that grew during it: the edge's warren_udp_datagrams_dropped_total{reason}, the connector's
      warren_connector_udp_datagrams_dropped_total{reason} and the kernel's Udp RcvbufErrors
      (/proc/net/snmp: every socket of the host, the echo's and the clients' too). "unaccounted" is
      lost - warren's drops - the kernel's: what no counter shows. With --flood-seconds, instead of the
      flows a flood of large datagrams, and the edge's and connector's peak and final resident memory.

A datagram carries its flow and sequence number (8 bytes) padded to SIZE; an echo counts once. A flow
whose outstanding datagrams get no echo for --stall seconds counts them lost and goes on with the rest,
so one loss never stalls a flow. Python is enough: it sends ~25k datagrams/s on one core, the rate the
trial that found the drops ran at.
"""
import argparse
import json
import os
import re
import select
import socket
import struct
import sys
import tempfile
import time
import urllib.request

from procs import BenchError, Procs

HEAD = struct.Struct("!II")  # flow, sequence


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


class Flow:
    __slots__ = ("index", "sock", "next_seq", "outstanding", "echoed", "last_progress", "lost")

    def __init__(self, index, sock, now):
        self.index, self.sock = index, sock
        self.next_seq, self.outstanding, self.echoed, self.lost = 0, set(), 0, 0
        self.last_progress = now


def load(a):
    target = addr(a.to)
    pad = b"x" * max(0, a.size - HEAD.size)
    ep = select.epoll()
    by_fd, waiting = {}, list(range(a.flows))[::-1]
    sent = echoed = lost = not_sent = 0
    t0 = time.monotonic()

    def send_some(f):
        nonlocal sent, not_sent
        while len(f.outstanding) < a.window and f.next_seq < a.per_flow:
            seq = f.next_seq
            f.next_seq += 1
            try:
                f.sock.send(HEAD.pack(f.index, seq) + pad)
            except OSError:
                not_sent += 1  # counted as sent: a datagram the path did not echo
            sent += 1
            f.outstanding.add(seq)

    def finish(f):
        ep.unregister(f.sock.fileno())
        del by_fd[f.sock.fileno()]
        f.sock.close()

    def open_more(now):
        while waiting and len(by_fd) < a.concurrency:
            i = waiting.pop()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.bind((f"127.0.0.{2 + i % a.srcs}", 0))
            s.connect(target)
            f = Flow(i, s, now)
            by_fd[s.fileno()] = f
            ep.register(s.fileno(), select.EPOLLIN)
            send_some(f)

    open_more(t0)
    last_scan = t0
    while by_fd:
        for fd, _ in ep.poll(0.01):
            f = by_fd.get(fd)
            while f is not None:
                try:
                    data = f.sock.recv(65535)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                if len(data) < HEAD.size:
                    continue
                flow, seq = HEAD.unpack_from(data)
                if flow == f.index and seq in f.outstanding:
                    f.outstanding.discard(seq)
                    f.echoed += 1
                    echoed += 1
                    f.last_progress = time.monotonic()
            if f is not None:
                send_some(f)
                if not f.outstanding and f.next_seq >= a.per_flow:
                    finish(f)
        now = time.monotonic()
        if now - last_scan > 0.05:
            last_scan = now
            for f in list(by_fd.values()):
                if f.outstanding and now - f.last_progress > a.stall:
                    lost += len(f.outstanding)
                    f.outstanding.clear()
                    f.last_progress = now
                    send_some(f)
                    if not f.outstanding:
                        finish(f)
        open_more(now)
    seconds = time.monotonic() - t0
    return {"flows": a.flows, "srcs": a.srcs, "per_flow": a.per_flow, "window": a.window, "size": a.size,
            "concurrency": a.concurrency, "sent": sent, "echoed": echoed, "lost": sent - echoed,
            "not_sent": not_sent, "loss_percent": round(100.0 * (sent - echoed) / sent, 2) if sent else None,
            "seconds": round(seconds, 3),
            # the time a stalled flow waited (--stall) is in seconds: the rate while datagrams moved is higher
            "sent_per_s": round(sent / seconds), "echoed_per_s": round(echoed / seconds)}


def flood(a):
    """--flood-sockets connected sockets send --flood-size datagrams as fast as they can (up to --flood-rate
    a second in all) for --flood-seconds; echoes are read and dropped. The memory the edge and connector
    hold under it is what run() reports."""
    target = addr(a.to)
    socks = []
    for i in range(a.flood_sockets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.bind((f"127.0.0.{2 + i % a.srcs}", 0))
        s.connect(target)
        s.setblocking(False)
        socks.append(s)
    payload = b"f" * a.flood_size
    sent = not_sent = echoed = 0
    t0 = time.monotonic()
    while True:
        now = time.monotonic()
        if now - t0 >= a.flood_seconds:
            break
        due = int((now - t0) * a.flood_rate) - sent - not_sent
        for i in range(min(due, 256)):
            try:
                socks[i % len(socks)].send(payload)
                sent += 1
            except OSError:
                not_sent += 1
        for s in socks:
            try:
                while True:
                    s.recv(65535)
                    echoed += 1
            except (BlockingIOError, ConnectionRefusedError):
                pass
    seconds = time.monotonic() - t0
    for s in socks:
        s.close()
    return {"flood_size": a.flood_size, "flood_sockets": a.flood_sockets, "sent": sent, "not_sent": not_sent,
            "echoed": echoed, "seconds": round(seconds, 2), "sent_per_s": round(sent / seconds),
            "echoed_per_s": round(echoed / seconds)}


def memory_kib(pid):
    """(VmHWM, VmRSS) in KiB: the peak resident set and the one now."""
    fields = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


# ---- the whole path ---------------------------------------------------------------------------------

def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def drops(url, family):
    """{reason: count} of one metric family, summed over its other labels."""
    out = {}
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    for m in re.finditer(rf'^{family}\{{([^}}]*)\}} (\S+)', text, re.M):
        reason = re.search(r'reason="([^"]*)"', m.group(1)).group(1)
        out[reason] = out.get(reason, 0) + int(float(m.group(2)))
    return out


def kernel_udp():
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    row = dict(zip(lines[0][1:], lines[1][1:]))
    return {k: int(row[k]) for k in ("RcvbufErrors", "SndbufErrors", "InErrors")}


def delta(after, before):
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def run(a):
    d = tempfile.mkdtemp(prefix="udp-burst-")
    procs = Procs(d)  # NAME.out / NAME.err in d; stop_all() ends every process started
    try:
        tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_tool.py")
        echo = procs.start("echo", [sys.executable, tool, "echo", "--bind", "127.0.0.1:0"])
        echo_port = int(procs.wait_line("echo", echo, r"^udp echo (\d+)", 10).group(1))
        public, edge_admin, connector_admin = free_port(socket.SOCK_DGRAM), free_port(), free_port()
        os.makedirs(f"{d}/state")
        with open(f"{d}/edge.toml", "w") as f:
            f.write(f'[edge]\nid = "burst"\nstate_dir = "{d}/state"\npublic_host = "127.0.0.1"\n'
                    f'public_ports = "{public}-{public}"\nadmin = "127.0.0.1:{edge_admin}"\n\n'
                    f'[[listen]]\nplugin = "{a.transport}"\naddress = "127.0.0.1:0"\n\n'
                    f'[[tunnels]]\nid = "udp"\ntoken = "burst"\nkind = "udp"\npublic_port = {public}\n'
                    f'max_flows = 65536\nmax_flows_per_source = 65536\nflow_idle_timeout = "{a.idle}"\n')
        edge = procs.start("edge", [a.warren, "edge", "--config", f"{d}/edge.toml"])
        listen = procs.wait_line("edge", edge, rf"^listen {a.transport} (\S+)", 30).group(1)
        pin = procs.wait_line("edge", edge, r"^pin (\S+)", 30).group(1)
        with open(f"{d}/connect.toml", "w") as f:
            f.write(f'[tunnel]\nid = "udp"\ntoken = "burst"\nedge_fingerprint = "{pin}"\ngrace_period = "1s"\n'
                    f'ha_connections = {a.legs}\n\n[admin]\naddress = "127.0.0.1:{connector_admin}"\n\n'
                    f'[[transport]]\nplugin = "{a.transport}"\n\n[discovery]\nplugin = "static"\n'
                    f'edges = ["{listen}"]\n\n[backend]\nplugin = "udp"\naddress = "127.0.0.1:{echo_port}"\n')
        connector = procs.start("connect", [a.warren, "connect", "--config", f"{d}/connect.toml"])
        procs.wait_line("connect", connector, r"^tunnel udp (\S+)", 30)
        edge_url = f"http://127.0.0.1:{edge_admin}/metrics"
        connector_url = f"http://127.0.0.1:{connector_admin}/metrics"
        # every leg registered, so flows spread as in the trial (the state was "up" here, which no leg
        # ever is: the wait ran out its 30 s on every run)
        deadline = time.monotonic() + 30
        while True:
            text = urllib.request.urlopen(connector_url, timeout=5).read().decode()
            m = re.search(r'^warren_connector_legs\{state="registered"\} (\d+)', text, re.M)
            if m and int(m.group(1)) >= a.legs:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"{a.legs} legs not registered within 30 s:\n" + procs.err_tail("connect"))
            time.sleep(0.1)
        before = (drops(edge_url, "warren_udp_datagrams_dropped_total"),
                  drops(connector_url, "warren_connector_udp_datagrams_dropped_total"), kernel_udp())
        a.to = f"127.0.0.1:{public}"
        if a.flood_seconds:
            rss_before = memory_kib(edge.pid), memory_kib(connector.pid)
            out = flood(a)
            out.update(edge_kib_before=rss_before[0][1], connector_kib_before=rss_before[1][1])
            (out["edge_peak_kib"], out["edge_kib_after"]) = memory_kib(edge.pid)
            (out["connector_peak_kib"], out["connector_kib_after"]) = memory_kib(connector.pid)
            # the memory a flood leaves: the edge's resident set a few seconds after it ends
            time.sleep(3)
            out["edge_kib_3s_after"] = memory_kib(edge.pid)[1]
        else:
            out = load(a)
        time.sleep(0.3)  # late counts: a drop counted when the next datagram or the flow's end reveals it
        edge_d = delta(drops(edge_url, "warren_udp_datagrams_dropped_total"), before[0])
        conn_d = delta(drops(connector_url, "warren_connector_udp_datagrams_dropped_total"), before[1])
        kern_d = delta(kernel_udp(), before[2])
        out.update(transport=a.transport, legs=a.legs, edge_dropped=edge_d, connector_dropped=conn_d,
                   kernel=kern_d)
        counted = sum(edge_d.values()) + sum(conn_d.values())
        # A flow socket's drop is counted by warren (socket_buffer) and by the kernel's RcvbufErrors alike.
        kernel_only = max(0, kern_d.get("RcvbufErrors", 0) - conn_d.get("socket_buffer", 0)
                          - edge_d.get("socket_buffer", 0))
        out["warren_counted"] = counted
        if "lost" in out:
            out["unaccounted"] = out["lost"] - counted - kernel_only
        print(json.dumps(out), flush=True)
        return 0
    finally:
        procs.stop_all()


def load_args(p):
    p.add_argument("--flows", type=int, default=2000)
    p.add_argument("--srcs", type=int, default=20, help="source addresses 127.0.0.2 ..")
    p.add_argument("--per-flow", type=int, default=4)
    p.add_argument("--window", type=int, default=4, help="datagrams in flight per flow")
    p.add_argument("--concurrency", type=int, default=2000, help="flows open at once")
    p.add_argument("--size", type=int, default=100, help="datagram bytes")
    p.add_argument("--stall", type=float, default=1.0, help="seconds without an echo before outstanding ones count lost")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("--to", required=True)
    load_args(lp)
    rp = sub.add_parser("run")
    rp.add_argument("--warren", required=True)
    rp.add_argument("--transport", default="quic", choices=("quic", "http2"))
    rp.add_argument("--legs", type=int, default=2, help="ha_connections")
    rp.add_argument("--idle", default="30s", help="flow_idle_timeout")
    rp.add_argument("--flood-seconds", type=float, default=0,
                    help="instead of the flows: a flood this long, reporting the edge's and connector's memory")
    rp.add_argument("--flood-size", type=int, default=60000)
    rp.add_argument("--flood-rate", type=int, default=60000, help="datagrams/s at most, all sockets together")
    rp.add_argument("--flood-sockets", type=int, default=4)
    load_args(rp)
    a = ap.parse_args(argv)
    if a.mode == "load":
        print(json.dumps(load(a)), flush=True)
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
