"""Processes, network namespaces and /proc readings for bench/run.py.

Every process the bench starts goes through Procs.start(), so Procs.stop_all()
can stop it (newest first, TERM then KILL after a bounded wait). Every wait has a
deadline. Veth builds two network namespaces joined by a veth pair; its names
carry the bench's pid so two runs never collide, and teardown() removes them.
"""
import os
import re
import resource
import signal
import subprocess
import time


class BenchError(Exception):
    """Something the bench needed did not run (not a slow figure)."""


def raise_nofile():
    """Raise RLIMIT_NOFILE to its hard limit (10,000 idle streams need ~10k descriptors a process)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Procs:
    def __init__(self, tmp, verbose=False):
        self.tmp = tmp
        self.verbose = verbose
        self.started = []  # (name, Popen)

    def _argv(self, argv, ns):
        return (["ip", "netns", "exec", ns] if ns else []) + list(argv)

    def start(self, name, argv, ns=None):
        """Start argv (in namespace ns) with stdout/stderr in tmp/NAME.out/.err."""
        out = open(os.path.join(self.tmp, name + ".out"), "wb")
        err = open(os.path.join(self.tmp, name + ".err"), "wb")
        # `ip netns exec` execs the command in place: the pid is the command's own.
        p = subprocess.Popen(self._argv(argv, ns), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        out.close()
        err.close()
        self.started.append((name, p))
        if self.verbose:
            print(f"[bench] started {name} pid {p.pid}: {' '.join(argv)}", flush=True)
        return p

    def err_tail(self, name, lines=15):
        try:
            with open(os.path.join(self.tmp, name + ".err"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def wait_line(self, name, proc, pattern, timeout, stream="out"):
        """The first match of regex `pattern` in NAME's stdout ("err": its stderr, where warren logs),
        within timeout seconds."""
        rx = re.compile(pattern, re.M)
        path = os.path.join(self.tmp, f"{name}.{stream}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(path, errors="replace") as f:
                m = rx.search(f.read())
            if m:
                return m
            if proc.poll() is not None:
                raise BenchError(f"{name} exited ({proc.returncode}) before printing /{pattern}/:\n"
                                 + self.err_tail(name))
            time.sleep(0.05)
        raise BenchError(f"{name} did not print /{pattern}/ within {timeout} s:\n" + self.err_tail(name))

    def run(self, argv, ns=None, timeout=60, check=True):
        """Run to completion (bounded); the CompletedProcess with text output."""
        try:
            r = subprocess.run(self._argv(argv, ns), capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{argv[0]} did not finish within {timeout} s: {' '.join(argv)}")
        if check and r.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()[-600:]}")
        return r

    def stop(self, proc, grace=5.0):
        for pid in [proc.pid] + descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop_since(self, mark):
        """Stop what was started after len(self.started) was mark, newest first."""
        for _, p in reversed(self.started[mark:]):
            if p.poll() is None:
                self.stop(p)
        del self.started[mark:]

    def stop_all(self):
        """TERM everything started (and sshd's per-connection children), newest first; KILL after 5 s."""
        victims = []
        for _, p in reversed(self.started):
            if p.poll() is None:
                victims += [p.pid] + descendants(p.pid)
        for pid in victims:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        for _, p in self.started:
            try:
                p.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _, p in self.started:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.started = []


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()  # fields from 3 (state) on


def descendants(pid):
    """Every live descendant of pid (e.g. sshd's per-connection processes)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(_stat_fields(entry)[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, unvisited = [], [pid]
    while unvisited:
        for c in children.get(unvisited.pop(), []):
            out.append(c)
            unvisited.append(c)
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime of these processes (all their threads), in seconds; a gone pid counts 0."""
    total = 0
    for pid in pids:
        try:
            f = _stat_fields(pid)
            total += int(f[11]) + int(f[12])  # utime, stime: fields 14 and 15
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK_TCK


def rss_kib(pid):
    """VmRSS of pid in KiB (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


class Veth:
    """Two namespaces (public side, private side) joined by a veth pair at MTU 1500."""

    def __init__(self, procs):
        pid = os.getpid()
        self.procs = procs
        self.pub, self.priv = f"wb{pid}pub", f"wb{pid}prv"
        self.if_pub, self.if_priv = f"wb{pid}p", f"wb{pid}q"
        octet = 200 + pid % 50  # 10.200.0.0 .. 10.249.x: private addresses, only inside the namespaces
        third = (pid // 50) % 250
        self.pub_ip, self.priv_ip = f"10.{octet}.{third}.1", f"10.{octet}.{third}.2"
        self.made = False

    def setup(self):
        self.made = True
        ip = lambda *a: self.procs.run(["ip", *a], timeout=10)
        ip("netns", "add", self.pub)
        ip("netns", "add", self.priv)
        ip("link", "add", self.if_pub, "mtu", "1500", "type", "veth", "peer", "name", self.if_priv, "mtu", "1500")
        ip("link", "set", self.if_pub, "netns", self.pub)
        ip("link", "set", self.if_priv, "netns", self.priv)
        for ns, dev, addr in ((self.pub, self.if_pub, self.pub_ip), (self.priv, self.if_priv, self.priv_ip)):
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "addr", "add", addr + "/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
        deadline = time.monotonic() + 10  # both ends report the carrier (state UP)
        for ns, dev in ((self.pub, self.if_pub), (self.priv, self.if_priv)):
            while "state UP" not in self.procs.run(["ip", "-n", ns, "-o", "link", "show", "dev", dev],
                                                   timeout=5).stdout:
                if time.monotonic() > deadline:
                    raise BenchError(f"veth {dev} in {ns} is not up after 10 s")
                time.sleep(0.05)

    def teardown(self):
        if not self.made:
            return
        for ns in (self.pub, self.priv):  # deleting a namespace deletes its end of the veth, and so the pair
            self.procs.run(["ip", "netns", "del", ns], timeout=10, check=False)
        self.procs.run(["ip", "link", "del", self.if_pub], timeout=10, check=False)  # if never moved
        self.made = False
