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

With --breakdown it also prints where each idle process's RSS lies, read
from /proc/PID/smaps: file-backed pages per mapped object (text and data of
the binary and each shared library: counted in full by VmRSS although other
processes map the same pages; Pss splits them), the main heap, other malloc
arenas, thread stacks and other anonymous memory; and in the "after" state
glibc's malloc_stats(), free heap by chunk size (malloc_info) and what one
more malloc_trim(0) would give back (both called through gdb).
--touch B makes each stream echo B bytes before it idles; --churn MIB
instead echoes MIB MiB through one stream and counts edge + connector
brk/mmap/munmap calls (perf stat) and CPU seconds. bench/MEMORY.md has
the figures.

Usage:  bench/memory.py [--build-dir build] [--streams 1000,10000] [--json FILE]
        [--transport quic|http2] [--touch BYTES] [--breakdown] [--churn MIB]
        [--edge-key KEY=VALUE ...] [--env NAME=VALUE ...]
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

    def __init__(self, build_dir, log_level=None, preload=None, env=None):
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
        self.edge_keys = ""  # extra [edge] keys (TOML lines)
        self.env = env or {}  # extra environment for edge and connector (e.g. GLIBC_TUNABLES)

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, name + ".log"), "w+")
        env = dict(os.environ)
        if self.preload and name in ("edge", "connector"):
            env["LD_PRELOAD"] = self.preload
        if name in ("edge", "connector"):
            env.update(self.env)
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


def setup(run, streams, transport="quic"):
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
{run.edge_keys}

[[listen]]
plugin = "{transport}"
address = "127.0.0.1:0"
max_streams = {limit}

[[tunnels]]
id = "memory"
token = "memory-token"
public_port = {public_port}
""")
    edge = run.start("edge", [run.warren, *run.flags, "edge", "--config", edge_toml])
    edge_addr = run.wait_line("edge", rf"^listen {transport} (\S+)", 30).group(1)
    pin = run.wait_line("edge", r"^pin (\S+)", 30).group(1)
    connect_toml = write(os.path.join(run.tmp, "connect.toml"), f"""
[tunnel]
id = "memory"
token = "memory-token"
edge_fingerprint = "{pin}"
grace_period = "1s"

[[transport]]
plugin = "{transport}"
max_streams = {limit}

[discovery]
plugin = "static"
edges = ["{edge_addr}"]

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


HEAP_MAX = 64 << 20  # glibc: a non-main arena's heap is a 64 MiB-aligned mapping (2 x DEFAULT_MMAP_THRESHOLD_MAX)


def _mappings(pid):
    """/proc/PID/smaps as a list of {start, end, perms, path, Rss, Pss, ...} (sizes in KiB)."""
    out = []
    head = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$")
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = head.match(line)
            if m:
                out.append({"start": int(m.group(1), 16), "end": int(m.group(2), 16), "perms": m.group(3),
                            "path": m.group(4).strip()})
                continue
            key, _, rest = line.partition(":")
            parts = rest.split()
            if out and len(parts) == 2 and parts[1] == "kB":
                out[-1][key] = int(parts[0])
    return out


def _thread_stack_pointers(pid):
    """Each thread's stack pointer while it waits in a syscall (/proc/PID/task/TID/syscall)."""
    sps = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
            if len(fields) >= 8:
                sps.append(int(fields[-2], 16))
        except (OSError, ValueError):
            pass
    return sps


def breakdown(pid):
    """Where a process's RSS lies, in KiB: {category: {rss, pss, private_dirty}}.

    Categories: each mapped file (binary, shared libraries, by basename), "[heap]" (the main
    arena), "arenas" (other malloc arenas), "thread stacks", "anon other", and the kernel's
    own named areas ([stack], [vvar], ...). VmRSS = sum of rss; file-backed rss counts
    pages other processes share in full; pss charges each sharer its part."""
    sps = _thread_stack_pointers(pid)
    cats = {}
    for m in _mappings(pid):
        if not m.get("Rss"):
            continue
        path = m["path"]
        if path.startswith("/"):
            cat = os.path.basename(path)
        elif path:
            cat = path
        elif any(m["start"] <= sp < m["end"] for sp in sps):
            cat = "thread stacks"
        elif m["start"] % HEAP_MAX == 0 and "rw" in m["perms"]:
            cat = "arenas"  # the used part of an arena heap starts at its aligned base
        else:
            cat = "anon other"
        c = cats.setdefault(cat, {"rss": 0, "pss": 0, "uss": 0, "private_dirty": 0, "file": path.startswith("/")})
        c["uss"] += m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)
        c["rss"] += m.get("Rss", 0)
        c["pss"] += m.get("Pss", 0)
        c["private_dirty"] += m.get("Private_Dirty", 0)
    return cats


def breakdown_table(name, cats, top=40):
    """Rows by rss, the file-backed and anonymous totals, and what a static link could not shed."""
    rows = sorted(cats.items(), key=lambda kv: -kv[1]["rss"])
    total = {k: sum(c[k] for c in cats.values()) for k in ("rss", "pss", "uss", "private_dirty")}
    files = {k: sum(c[k] for c in cats.values() if c["file"]) for k in ("rss", "pss", "uss", "private_dirty")}
    lines = [f"{name}: {'mapping':<34} {'Rss KiB':>8} {'Pss KiB':>8} {'Uss KiB':>8} {'PrivDirty':>9}"]
    for cat, c in rows[:top]:
        lines.append(f"{'':<{len(name) + 2}}{cat[:34]:<34} {c['rss']:>8} {c['pss']:>8} {c['uss']:>8} {c['private_dirty']:>9}")
    rest = rows[top:]
    if rest:
        lines.append(f"{'':<{len(name) + 2}}{f'({len(rest)} more)':<34} {sum(c['rss'] for _, c in rest):>8} "
                     f"{sum(c['pss'] for _, c in rest):>8} {sum(c['uss'] for _, c in rest):>8} "
                     f"{sum(c['private_dirty'] for _, c in rest):>9}")
    lines.append(f"{'':<{len(name) + 2}}{'= file-backed':<34} {files['rss']:>8} {files['pss']:>8} "
                 f"{files['uss']:>8} {files['private_dirty']:>9}")
    lines.append(f"{'':<{len(name) + 2}}{'= anonymous':<34} {total['rss'] - files['rss']:>8} "
                 f"{total['pss'] - files['pss']:>8} {total['uss'] - files['uss']:>8} "
                 f"{total['private_dirty'] - files['private_dirty']:>9}")
    lines.append(f"{'':<{len(name) + 2}}{'= total (VmRSS)':<34} {total['rss']:>8} {total['pss']:>8} "
                 f"{total['uss']:>8} {total['private_dirty']:>9}")
    return "\n".join(lines)


def _free_chunk_summary(path):
    """Free heap by chunk size from a malloc_info XML: fragments too small to hold a free page
    cannot go back to the OS (malloc_trim releases whole pages inside free chunks only)."""
    try:
        with open(path) as f:
            xml = f.read()
    except OSError:
        return "\nmalloc_info: unavailable"
    buckets = {"< 4 KiB": 0, "4-64 KiB": 0, ">= 64 KiB": 0}
    for lo, hi, total in re.findall(r'<size from="(\d+)" to="(\d+)" total="(\d+)" count="\d+"/>', xml):
        lo = int(lo)
        key = "< 4 KiB" if lo < 4096 else "4-64 KiB" if lo < 65536 else ">= 64 KiB"
        buckets[key] += int(total)
    return "\n" + "\n".join(f"free in chunks {k}: {v // 1024} KiB" for k, v in buckets.items())


def malloc_stats(run, name, pid):
    """glibc's malloc_stats() of a running process (through gdb; it prints to the process's
    stderr, our log): per arena, bytes taken from the system and bytes in use."""
    if not shutil.which("gdb"):
        return f"{name}: malloc_stats: no gdb"
    before = len(run.log_text(name))
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "call (void)malloc_stats()"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    text = run.log_text(name)[before:]
    info = os.path.join(run.tmp, f"malloc_info.{name}.xml")
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", f'set $f = (void*)fopen("{info}", "w")',
                    "-ex", "call (int)malloc_info(0, $f)", "-ex", "call (int)fclose($f)"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    text += _free_chunk_summary(info)
    # Then what a trim now would give back: the part of "after" that is free heap.
    rss = status_kib(pid, "VmRSS")
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "call (int)malloc_trim(0)"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    trimmed = status_kib(pid, "VmRSS")
    return (f"{name} malloc_stats:\n" + "\n".join("  " + line for line in text.splitlines() if "system" in line
                                                   or "in use" in line or "Arena" in line
                                                   or line.startswith("free in"))
            + f"\n  VmRSS {rss} KiB; after a malloc_trim(0) now: {trimmed} KiB")


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


def _hold(run, public_port, streams, touch, pids, base):
    """Opens `streams` public connections and keeps them; returns (count, release())."""
    if not touch:
        hold = max(30, int(streams / 200) + 30)
        run.start("holder", [run.loadgen, "idle", "--port", str(public_port), "--count", str(streams),
                             "--hold", str(hold)])
        return int(run.wait_line("holder", r"^held (\d+)", hold).group(1)), lambda: run.stop("holder")
    # Each connection echoes `touch` bytes through the tunnel first, then idles (Python sockets).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import measure as bench_measure  # noqa: E402
    from procs import raise_nofile  # noqa: E402
    raise_nofile()
    settled = lambda k: wait_for(f"{k} streams on the connector side",
                                 lambda: fd_count(pids["connector"]) - base["connector"] >= k, 60)
    socks = bench_measure._open_idle(public_port, streams, 100, settled, touch)

    def release():
        for s in socks:
            s.close()
    return len(socks), release


def measure(build_dir, streams, after_seconds=15.0, log_level=None, keep=False, preload=None, transport="quic",
            touch=0, env=None, show_breakdown=False, edge_keys=None):
    """One measurement with fresh processes; figures in KiB (RSS) and KiB per stream."""
    run = Run(build_dir, log_level, preload, env)
    run.edge_keys = "\n".join(edge_keys or [])
    try:
        edge, connector, public_port = setup(run, streams, transport)
        pids = {"edge": edge, "connector": connector}
        settle(pids, seconds=2.0)
        idle = sample(pids)
        cats = {n: breakdown(p) for n, p in pids.items()} if show_breakdown else None
        if show_breakdown:
            for n in pids:
                print(breakdown_table(n, cats[n]), flush=True)
        base = {n: idle[n]["fds"] for n in pids}
        established, release = _hold(run, public_port, streams, touch, pids, base)
        # Every public connection became a socket on the edge and a backend
        # socket on the connector: wait for both before reading RSS.
        want = int(established * 0.99)
        wait_for(f"{want} streams held on both sides",
                 lambda: all(fd_count(pids[n]) - base[n] >= want for n in pids), 120,
                 [(n, p) for n, p, _ in run.procs if n in pids])
        settle(pids, seconds=1.0)
        held = sample(pids)
        release()
        wait_for("the streams to close on both sides",
                 lambda: all(fd_count(pids[n]) - base[n] <= max(2, streams // 1000) for n in pids), 120)
        closed_at = time.monotonic()
        time.sleep(max(0.0, after_seconds - (time.monotonic() - closed_at)))
        after = sample(pids)
        if show_breakdown:
            for n, p in pids.items():
                print(breakdown_table(f"{n} after", breakdown(p)), flush=True)
                print(malloc_stats(run, n, p), flush=True)
        result = {"streams": streams, "established": established, "after_seconds": after_seconds,
                  "transport": transport, "touch": touch}
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
            if cats:
                result[n]["breakdown"] = cats[n]
        return result
    finally:
        run.cleanup(keep)


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def churn(build_dir, mib, transport="quic", log_level=None, env=None, preload=None):
    """Echoes `mib` MiB through one tunnelled connection; counts the brk/mmap/munmap calls and
    CPU seconds of edge and connector meanwhile (perf stat on syscall tracepoints)."""
    run = Run(build_dir, log_level, preload, env)
    try:
        edge, connector, public_port = setup(run, 16, transport)
        pids = {"edge": edge, "connector": connector}
        settle(pids, seconds=1.0)
        events = ",".join(f"syscalls:sys_enter_{c}" for c in ("brk", "mmap", "munmap", "madvise"))
        out = os.path.join(run.tmp, "perf.txt")
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-o", out, "-e", events, "-p", f"{edge},{connector}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        cpu0 = {n: _cpu_seconds(p) for n, p in pids.items()}
        block = bytes(range(256)) * 256  # 64 KiB
        total = mib << 20
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", public_port), timeout=30) as s:
            import threading
            def send():
                for _ in range(total // len(block)):
                    s.sendall(block)
            t = threading.Thread(target=send)
            t.start()
            got = 0
            while got < total:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("the echo closed early")
                got += len(chunk)
            t.join()
        seconds = time.monotonic() - start
        cpu = {n: round(_cpu_seconds(p) - cpu0[n], 2) for n, p in pids.items()}
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=30)
        counts = {}
        with open(out) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) > 2 and parts[2].startswith("syscalls:sys_enter_"):
                    counts[parts[2].split("_enter_")[1]] = int(parts[0]) if parts[0].isdigit() else parts[0]
        return {"mib": mib, "transport": transport, "seconds": round(seconds, 2), "cpu_s": cpu,
                "syscalls": counts}
    finally:
        run.cleanup()


def table(results):
    lines = [f"{'streams':>8} {'side':<10} {'idle MiB':>9} {'held MiB':>9} {'KiB/stream':>11} "
             f"{'after MiB':>10} {'after/idle':>10} {'threads':>7}"]
    for r in results:
        for n in ("edge", "connector"):
            s = r[n]
            lines.append(f"{r['streams']:>8} {n:<10} {s['idle_mib']:>9.1f} {s['held_mib']:>9.1f} "
                         f"{s['per_stream_kib']:>11.1f} {s['after_mib']:>10.1f} {s['after_over_idle']:>10.2f} "
                         f"{s['held']['threads']:>7}")
    if results:
        lines.append(f"transport {results[0]['transport']}, each stream echoed {results[0]['touch']} B first")
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
    ap.add_argument("--transport", default="quic", choices=("quic", "http2"))
    ap.add_argument("--touch", type=int, default=0,
                    help="bytes each stream echoes through the tunnel before it idles (0: none)")
    ap.add_argument("--breakdown", action="store_true", help="print where idle (and after) RSS lies, from smaps")
    ap.add_argument("--edge-key", action="append", default=[], metavar="KEY=VALUE",
                    help="an extra [edge] key, as TOML (e.g. max_stream_buffer_mib=1)")
    ap.add_argument("--churn", type=int, metavar="MIB",
                    help="instead: echo MIB MiB through one stream; count edge+connector brk/mmap/munmap and CPU")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment for edge and connector (e.g. GLIBC_TUNABLES=glibc.malloc.arena_max=1)")
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",") if x]
    if max(counts) > 20000:
        ap.error("--streams: at most 20000 (warren-loadgen idle's limit)")
    env = dict(e.split("=", 1) for e in args.env)
    if args.churn:
        print(json.dumps(churn(args.build_dir, args.churn, args.transport, args.log_level, env, args.preload)))
        return 0
    results = []
    for n in counts:
        print(f"[memory] {n} streams ...", file=sys.stderr, flush=True)
        results.append(measure(args.build_dir, n, args.after_seconds, args.log_level, args.keep, args.preload,
                               args.transport, args.touch, env, args.breakdown, args.edge_key))
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
