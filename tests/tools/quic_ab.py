#!/usr/bin/env python3
"""A/B runs of the QUIC transport's bulk throughput, CPU and latency.

Not a test and not the user-facing benchmark (that is bench/): a tool for
measuring one transport lever at a time, back to back (A, B, A, B, ...), so
that a busy shared machine moves both sides alike.

  quic_ab.py [--veth] [--rounds N] [--seconds S] [--pings N] [--stat] [--packets] [--perf DIR] VARIANT...

VARIANT is  LABEL=WARREN_BINARY[,ENV=VALUE...]  (the warren binary of the
build to measure, and environment for its edge and connector), or  LABEL=ssh
(`ssh -R` with its default cipher) or  LABEL=ssh:CIPHER.

Loopback by default; --veth puts the edge, sshd and the public client in one
network namespace and the connector, ssh client and service in another,
joined by a veth pair at MTU 1500 (needs root; torn down on exit).

Per run: iperf3 up and down (-R) for S seconds each, CPU seconds of the
tunnel's own processes per GB moved (edge + connector, or sshd + ssh, from
/proc), and a 64 B ping-pong p50/p99. Prints each run and the medians.
--seconds 0 skips the bulk runs (ping-pong only). --stat adds per process
and per GB: CPU seconds (task-clock), syscalls by name, page faults and
context switches (perf stat; this VM has no hardware counters, so no
instruction counts). --packets counts QUIC packets sealed and opened.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# The process-tree and /proc readers are the benchmark's (bench/procs.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import procs as bench_procs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SELF = os.path.abspath(__file__)
NS_PUBLIC, NS_PRIVATE = "warrenab-pub", "warrenab-priv"
ADDR_PUBLIC, ADDR_PRIVATE = "10.231.0.1", "10.231.0.2"


class Net:
    def __init__(self, veth):
        self.veth = veth
        self.public = ADDR_PUBLIC if veth else "127.0.0.1"
        self.private = ADDR_PRIVATE if veth else "127.0.0.1"

    def cmd(self, side, argv):
        if not self.veth:
            return argv
        return ["ip", "netns", "exec", NS_PUBLIC if side == "public" else NS_PRIVATE] + argv

    def setup(self):
        if not self.veth:
            return
        self.teardown()
        sh = lambda *a: subprocess.run(a, check=True)
        sh("ip", "netns", "add", NS_PUBLIC)
        sh("ip", "netns", "add", NS_PRIVATE)
        sh("ip", "link", "add", "wab0", "netns", NS_PUBLIC, "mtu", "1500", "type", "veth", "peer", "name", "wab1",
           "netns", NS_PRIVATE, "mtu", "1500")
        for ns, dev, addr in ((NS_PUBLIC, "wab0", ADDR_PUBLIC), (NS_PRIVATE, "wab1", ADDR_PRIVATE)):
            sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def teardown(self):
        if not self.veth:
            return
        for ns in (NS_PUBLIC, NS_PRIVATE):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


class Procs:
    def __init__(self, tmp):
        self.tmp, self.procs = tmp, []

    def start(self, name, argv, env=None):
        out = open(os.path.join(self.tmp, name + ".out"), "w")
        err = open(os.path.join(self.tmp, name + ".err"), "w")
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             env=dict(os.environ, **(env or {})), start_new_session=True)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.time() + 5
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []


def wait_line(path, prefix, proc, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"no '{prefix}' line in {path}: " + open(path.replace(".out", ".err")).read()[-2000:])


def wait_port(net, side, host, port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = subprocess.run(net.cmd(side, ["python3", "-c",
                                          f"import socket; socket.create_connection(('{host}', {port}), 1).close()"]),
                           stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{host}:{port} not listening")


def tree_cpu_seconds(pids):
    """utime+stime of the given processes and their descendants, in seconds."""
    return bench_procs.cpu_seconds({d for p in pids for d in [p, *bench_procs.descendants(p)]})


def udp_datagrams(net):
    """UDP datagrams sent so far (in the public namespace with --veth)."""
    if net.veth:
        text = subprocess.run(net.cmd("public", ["cat", "/proc/net/snmp"]), capture_output=True, text=True).stdout
        text += subprocess.run(net.cmd("private", ["cat", "/proc/net/snmp"]), capture_output=True, text=True).stdout
    else:
        text = open("/proc/net/snmp").read()
    total = 0
    lines = [l.split() for l in text.splitlines() if l.startswith("Udp:")]
    for head, vals in zip(lines[0::2], lines[1::2]):
        total += int(vals[head.index("OutDatagrams")])
    return total


_given = set()


def free_port():
    """A port free now and not handed out before in this run."""
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p not in _given:
            _given.add(p)
            return p


def start_warren(net, procs, tmp, binary, env, service_port, echo_port):
    pub_port, echo_pub = free_port(), free_port()
    state = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(tmp, "edge.toml"), "w") as f:
        f.write(f"""[edge]
id = "ab"
state_dir = "{state}"
public_host = "{net.public}"
public_ports = "{pub_port}-{pub_port}"

[[listen]]
plugin = "quic"
address = "{net.public}:0"

[[tunnels]]
id = "iperf"
token = "ab-iperf"
public_port = {pub_port}

[[tunnels]]
id = "echo"
token = "ab-echo"
public_port = {echo_pub}
""")
    edge = procs.start("edge", net.cmd("public", [binary, "edge", "--config", os.path.join(tmp, "edge.toml")]), env)
    quic_addr = wait_line(os.path.join(tmp, "edge.out"), "listen quic ", edge, 20)[2]
    pin = wait_line(os.path.join(tmp, "edge.out"), "pin ", edge, 20)[1]
    pids = [edge.pid]
    ports = {}
    for t, port in (("iperf", service_port), ("echo", echo_port)):
        path = os.path.join(tmp, f"connect-{t}.toml")
        with open(path, "w") as f:
            f.write(f"""[tunnel]
id = "{t}"
token = "ab-{t}"
edge_fingerprint = "{pin}"

[[transport]]
plugin = "quic"

[discovery]
plugin = "static"
edges = ["{quic_addr}"]

[backend]
plugin = "tcp"
address = "127.0.0.1:{port}"
""")
        c = procs.start(f"connect-{t}", net.cmd("private", [binary, "connect", "--config", path]), env)
        ports[t] = int(wait_line(os.path.join(tmp, f"connect-{t}.out"), f"tunnel {t} ", c, 30)[2].rsplit(":", 1)[1])
        if t == "iperf":
            pids.append(c.pid)
        else:
            procs.echo_pids = [edge.pid, c.pid]  # the ping-pong's edge and connector
    for t in ports:
        wait_port(net, "public", net.public, ports[t])
    return ports["iperf"], ports["echo"], pids


def start_ssh(net, procs, tmp, cipher, service_port, echo_port):
    d = tempfile.mkdtemp(prefix="ssh.", dir=tmp)
    for k in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, k)], check=True)
    shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
    os.chmod(os.path.join(d, "authorized_keys"), 0o600)
    sshd_port, fwd_iperf, fwd_echo = free_port(), free_port(), free_port()
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(f"""Port {sshd_port}
ListenAddress {net.public}
HostKey {d}/host_key
PidFile none
AuthorizedKeysFile {d}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
GatewayPorts yes
UseDNS no
LogLevel ERROR
""")
    os.makedirs("/run/sshd", exist_ok=True)
    sshd = procs.start("sshd", net.cmd("public", ["/usr/sbin/sshd", "-D", "-e", "-f", os.path.join(d, "sshd_config")]))
    wait_port(net, "public", net.public, sshd_port)
    argv = ["ssh", "-N", "-F", "/dev/null", "-p", str(sshd_port), "-i", os.path.join(d, "client_key"),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR"]
    if cipher:
        argv += ["-c", cipher]
    argv += ["-R", f"{net.public}:{fwd_iperf}:127.0.0.1:{service_port}",
             "-R", f"{net.public}:{fwd_echo}:127.0.0.1:{echo_port}", f"root@{net.public}"]
    ssh = procs.start("ssh", net.cmd("private", argv))
    wait_port(net, "public", net.public, fwd_iperf)
    wait_port(net, "public", net.public, fwd_echo)
    return fwd_iperf, fwd_echo, [sshd.pid, ssh.pid]


def iperf(net, host, port, seconds, reverse):
    argv = ["iperf3", "-c", host, "-p", str(port), "-t", str(seconds), "-O", "1", "-J"] + (["-R"] if reverse else [])
    r = subprocess.run(net.cmd("public", argv), capture_output=True, text=True, timeout=seconds + 40)
    d = json.loads(r.stdout)
    if "error" in d:
        raise RuntimeError("iperf3: " + d["error"])
    return d["end"]["sum_received"]["bits_per_second"], d["end"]["sum_received"]["bytes"]


def ping(net, host, port, count):
    r = subprocess.run(net.cmd("public", ["python3", SELF, "_ping", host, str(port), str(count)]),
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("ping: " + r.stderr)
    d = json.loads(r.stdout)
    return d["p50"], d["p99"]


def run_variant(net, tmp, spec, args, service_port, echo_port):
    label, what = spec.split("=", 1)
    procs = Procs(tmp)
    try:
        if what.startswith("ssh"):
            cipher = what.split(":", 1)[1] if ":" in what else ""
            iport, eport, pids = start_ssh(net, procs, tmp, cipher, service_port, echo_port)
        else:
            binary, *envs = what.split(",")
            env = dict(e.split("=", 1) for e in envs)
            iport, eport, pids = start_warren(net, procs, tmp, binary, env, service_port, echo_port)
        row = {"label": label}
        for direction, rev in (("up", False), ("down", True)) if args.seconds > 0 else ():
            t0, u0 = tree_cpu_seconds(pids), udp_datagrams(net)
            perf, stats = [], []
            for who, pid in zip(("edge", "connector"), pids):
                if args.stat or args.packets:
                    out = os.path.join(tmp, f"stat-{who}.csv")
                    stats.append((who, out, subprocess.Popen(
                        ["perf", "stat", "-x,", "-o", out, "-e", ",".join(stat_events(args)), "-p", str(pid)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            if args.perf:
                for who, pid in zip(("edge", "connector"), pids):
                    out = os.path.join(args.perf, f"{label}-{direction}-{who}.data")
                    perf.append(subprocess.Popen(["perf", "record", "-q", *args.perf_args.split(), "-o", out, "-p", str(pid)],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bps, nbytes = iperf(net, net.public, iport, args.seconds, rev)
            for p in perf + [s[2] for s in stats]:
                p.send_signal(signal.SIGINT)
                p.wait(20)
            t1, u1 = tree_cpu_seconds(pids), udp_datagrams(net)
            row[direction] = bps / 1e9
            # iperf3 moved its bytes plus the omitted second's: CPU over all of them
            moved = nbytes * (args.seconds + 1) / args.seconds
            row[direction + "_cpu"] = (t1 - t0) / (moved / 1e9)
            row[direction + "_dgrams"] = (u1 - u0) / (moved / 1e9) / 1000
            for who, out, _ in stats:
                for event, count in read_stat(out).items():
                    row[f"{direction}_{who}_{event}"] = count / (moved / 1e9)
        if args.pings:
            stats = []
            for who, pid in zip(("edge", "connector"), getattr(procs, "echo_pids", [])):
                if args.stat or args.packets:
                    out = os.path.join(tmp, f"stat-ping-{who}.csv")
                    stats.append((who, out, subprocess.Popen(
                        ["perf", "stat", "-x,", "-o", out, "-e", ",".join(stat_events(args)), "-p", str(pid)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            row["p50"], row["p99"] = ping(net, net.public, eport, args.pings)
            for who, out, p in stats:
                p.send_signal(signal.SIGINT)
                p.wait(20)
                # per round trip (the warm-up's 200 included)
                for event, count in read_stat(out).items():
                    row[f"ping_{who}_{event}"] = count / (args.pings + 200)
        return row
    finally:
        procs.stop_all()


# Syscalls counted with --stat (tracepoints: cheap enough not to move the figures).
STAT_SYSCALLS = ("sendmsg", "sendmmsg", "sendto", "recvmmsg", "recvmsg", "recvfrom", "read", "write", "readv",
                 "writev", "epoll_wait", "epoll_ctl", "brk", "mmap", "munmap", "madvise")
# QUIC packets sealed and opened (uprobes on ngtcp2's crypto callbacks, set up
# once with: perf probe -x libngtcp2_crypto_gnutls.so.2 ngtcp2_crypto_encrypt_cb,
# and the same for ngtcp2_crypto_decrypt_cb). Each hit costs ~1 us, so --packets
# runs are for counts, not for CPU figures.
PACKET_PROBES = ("probe_libngtcp2_crypto_gnutls:ngtcp2_crypto_encrypt_cb",
                 "probe_libngtcp2_crypto_gnutls:ngtcp2_crypto_decrypt_cb")


def stat_events(args):
    events = []
    if args.stat:
        events += ["instructions", "cycles", "task-clock", "page-faults", "context-switches", "raw_syscalls:sys_enter"]
        events += [f"syscalls:sys_enter_{name}" for name in STAT_SYSCALLS]
    if args.packets:
        events += list(PACKET_PROBES)
    return events


def read_stat(path):
    """perf stat -x, output: {short event name: count}."""
    counts = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) < 3 or line.startswith("#") or not parts[0].replace(".", "").isdigit():
            continue
        name = parts[2].split(":")[-1].replace("sys_enter_", "").replace("ngtcp2_crypto_", "")
        if parts[2] == "raw_syscalls:sys_enter":
            name = "syscalls"
        counts[name] = float(parts[0])
    return counts


def echo_server(host, port_file):
    import threading
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)

    def serve(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := c.recv(65536):
            c.sendall(data)
        c.close()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def ping_pong(host, port, count, warmup=200, size=64):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = bytes(size)
    samples = []
    for i in range(warmup + count):
        t0 = time.perf_counter_ns()
        s.sendall(msg)
        got = 0
        while got < size:
            got += len(s.recv(size - got))
        if i >= warmup:
            samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    print(json.dumps({"p50": samples[len(samples) // 2], "p99": samples[int(len(samples) * 0.99)]}))


def main():
    if sys.argv[1:2] == ["_echo"]:
        return echo_server(sys.argv[2], sys.argv[3])
    if sys.argv[1:2] == ["_ping"]:
        return ping_pong(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--veth", action="store_true")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--perf", help="directory for perf record profiles of the warren processes")
    ap.add_argument("--perf-args", default="-F 499 -g",
                    help="what perf record samples (default: -F 499 -g; e.g. '-e page-faults --call-graph dwarf')")
    ap.add_argument("--stat", action="store_true",
                    help="perf stat per process: instructions, cycles and syscalls per GB moved")
    ap.add_argument("--packets", action="store_true",
                    help="QUIC packets sealed/opened per GB per process (needs the uprobes named in PACKET_PROBES)")
    ap.add_argument("--json", help="write every run's row here")
    ap.add_argument("--nice", type=int, default=0, help="run everything at this nice value (root: negative)")
    args = ap.parse_args()
    if args.nice:
        os.nice(args.nice)
    net = Net(args.veth)
    tmp = tempfile.mkdtemp(prefix="quic-ab.")
    services = Procs(tmp)
    try:
        net.setup()
        service_port, echo_port = free_port(), None
        services.start("iperf3-server", net.cmd("private", ["iperf3", "-s", "-B", "0.0.0.0",
                                                            "-p", str(service_port)]))
        services.start("echo", net.cmd("private", ["python3", SELF, "_echo", "0.0.0.0",
                                                   os.path.join(tmp, "echo.port")]))
        deadline = time.time() + 10
        while not echo_port and time.time() < deadline:
            try:
                echo_port = int(open(os.path.join(tmp, "echo.port")).read())
            except (OSError, ValueError):
                time.sleep(0.05)
        wait_port(net, "private", net.private, service_port)
        direct = {"label": "direct"}
        if args.pings:
            direct["p50"], direct["p99"] = ping(net, net.private, echo_port, args.pings)
        rows = []
        print(f"load average {os.getloadavg()}, {'veth 1500' if args.veth else 'loopback'}", flush=True)
        for r in range(args.rounds):
            for spec in args.variants:
                row = run_variant(net, tmp, spec, args, service_port, echo_port)
                rows.append(row)
                bulk = ("up {up:6.2f} Gbit/s ({up_cpu:.2f} s/GB)  down {down:6.2f} Gbit/s ({down_cpu:.2f} s/GB)  "
                        "UDP kdgram/GB up {up_dgrams:.0f} down {down_dgrams:.0f}".format(**row) if "up" in row else "")
                print(f"run {row['label']:10s} {bulk}"
                      + (f"  p50 {row['p50']:.0f} p99 {row['p99']:.0f} us" if "p50" in row else ""), flush=True)
        print(f"load average {os.getloadavg()}")
        if "p50" in direct:
            print(f"direct ping-pong p50 {direct['p50']:.0f} p99 {direct['p99']:.0f} us")
        for spec in args.variants:
            label = spec.split("=", 1)[0]
            mine = [r for r in rows if r["label"] == label]
            med = {k: statistics.median(r[k] for r in mine) for k in mine[0] if k != "label"}
            line = f"median {label:10s}"
            if "up" in med:
                line += (f" up {med['up']:6.2f} Gbit/s ({med['up_cpu']:.2f} s/GB)  "
                         f"down {med['down']:6.2f} Gbit/s ({med['down_cpu']:.2f} s/GB)  "
                         f"UDP kdgram/GB {med['up_dgrams']:.0f}/{med['down_dgrams']:.0f}")
            if "p50" in med:
                line += f"  added p50 {med['p50'] - direct['p50']:+.0f} p99 {med['p99'] - direct['p99']:+.0f} us"
            print(line)
            for direction in ("up", "down", "ping"):
                for who in ("edge", "connector"):
                    prefix = f"{direction}_{who}_"
                    found = {k[len(prefix):]: v for k, v in med.items() if k.startswith(prefix)}
                    if found and direction == "ping":
                        print(f"  per round trip {who:9s} " + "  ".join(
                            f"{k} {v:.2f}" for k, v in sorted(found.items()) if v))
                    elif found:
                        print(f"  per GB {direction:4s} {who:9s} " + "  ".join(
                            f"{k} {v / 1e9:.2f}G" if k in ("instructions", "cycles") else f"cpu {v / 1e3:.2f}s" if k == "task-clock" else
                            f"{k} {v / 1e3:.1f}k" for k, v in sorted(found.items()) if v))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"direct": direct, "runs": rows}, f, indent=1)
    finally:
        services.stop_all()
        net.teardown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
