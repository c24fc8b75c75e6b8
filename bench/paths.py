"""The services and the paths to them: direct, warren (one edge + connectors per
transport) and `ssh -R` (one sshd + one ssh per cipher).

A Net says where things run: on loopback everything is in this namespace on
127.0.0.1; on the veth link the edge, sshd and the public clients are in the
public namespace, the connectors, ssh clients and services in the private one.
A path's start function returns a Path: the public (host, port) of each service
and the pids whose CPU and memory are the tunnel's own.
"""
import os
import re
import socket
import subprocess
import sys
import time

from procs import BenchError, descendants

SERVICES = ("iperf", "echo", "http")
UDP_SERVICES = ("udp",)  # reached over UDP: a kind = "udp" tunnel with the udp backend; ssh -R cannot carry it
# the udp tunnel's connector serves /metrics on a port of its own choosing, which it logs
UDP_CONNECTOR_ADMIN = '\n[admin]\naddress = "127.0.0.1:0"\n'


class Net:
    def __init__(self, name, pub_ns=None, priv_ns=None, pub_ip="127.0.0.1", priv_ip="127.0.0.1"):
        self.name, self.pub_ns, self.priv_ns, self.pub_ip, self.priv_ip = name, pub_ns, priv_ns, pub_ip, priv_ip
        # services listen where the direct client can reach them: all addresses inside a namespace
        self.service_bind = "0.0.0.0" if priv_ns else "127.0.0.1"


class Path:
    def __init__(self, name, public, edge_pids=None, connector_pids=None, cpu_pids=None, note="", conn_cpu_pids=None,
                 udp_cpu_pids=None, udp_drops=None):
        self.name = name
        self.public = public            # service -> (host, port) the public client dials
        self.edge_pids = edge_pids      # () -> pids on the public side (edge; sshd's session processes)
        self.connector_pids = connector_pids  # () -> pids on the private side (connector; ssh)
        self.cpu_pids = cpu_pids        # () -> pids whose CPU moves the iperf3 bytes
        self.conn_cpu_pids = conn_cpu_pids  # () -> pids whose CPU carries the connections to nginx (http)
        self.udp_cpu_pids = udp_cpu_pids  # () -> pids whose CPU carries the UDP echo's datagrams
        self.udp_drops = udp_drops  # () -> {counter: value} of where datagrams were dropped (udp_drop_counters)
        self.note = note


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_listening(procs, ns, port, timeout, who, udp=False):
    deadline = time.monotonic() + timeout
    while f":{port} " not in procs.run(["ss", "-Hlun" if udp else "-Hltn", f"sport = :{port}"], ns=ns,
                                       timeout=5).stdout + " ":
        if time.monotonic() > deadline:
            raise BenchError(f"{who}: nothing listens on port {port} after {timeout} s")
        time.sleep(0.05)


def start_services(procs, tmp, net, client_bin, udp=False):
    """iperf3 -s, an echo service and nginx (one fixed 2-byte page) in the private namespace;
    with udp, a UDP echo service too (bench/udp_tool.py)."""
    iperf_port, http_port = free_ports(2)
    tag = f"{net.name}-svc"
    p = procs.start(f"{tag}-iperf3", ["iperf3", "-s", "-p", str(iperf_port), "-B", net.service_bind], ns=net.priv_ns)
    echo = procs.start(f"{tag}-echo", [client_bin, "echo", "--bind", f"{net.service_bind}:0"], ns=net.priv_ns)
    echo_port = int(procs.wait_line(f"{tag}-echo", echo, r"^echo (\d+)", 10).group(1))
    d = os.path.join(tmp, f"{tag}-nginx")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen {net.service_bind}:{http_port} backlog=4096;
    location / {{ return 200 "ok"; }}
  }}
}}
""")
    procs.start(f"{tag}-nginx", ["nginx", "-e", f"{d}/error.log", "-p", d, "-c", f"{d}/nginx.conf"], ns=net.priv_ns)
    wait_listening(procs, net.priv_ns, iperf_port, 10, "iperf3 -s")
    wait_listening(procs, net.priv_ns, http_port, 10, "nginx")
    services = {"iperf": iperf_port, "echo": echo_port, "http": http_port}
    if udp:
        tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_tool.py")
        u = procs.start(f"{tag}-udp-echo", [sys.executable, tool, "echo", "--bind", f"{net.service_bind}:0"],
                        ns=net.priv_ns)
        services["udp"] = int(procs.wait_line(f"{tag}-udp-echo", u, r"^udp echo (\d+)", 10).group(1))
    return services


def direct_path(net, services, procs=None):
    return Path("direct", {s: (net.priv_ip, port) for s, port in services.items()},
                udp_drops=(lambda: udp_drop_counters(procs, net, None)) if procs else None)


def _toml_addr(host, port):
    return f"{host}:{port}"


def start_warren(procs, tmp, warren, net, transport, backends, tag, max_streams=None):
    """One edge listening with `transport` and one connector per backend (tunnel name -> port)."""
    d = os.path.join(tmp, tag)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    ports = free_ports(len(backends))
    listen_extra = f"max_streams = {max_streams}\n" if max_streams else ""
    edge_toml = f"""[edge]
id = "bench"
state_dir = "{d}/state"
public_host = "127.0.0.1"
public_ports = "{ports[0]}-{ports[0]}"
# the bench opens 10,000 idle streams and thousands of connections a second from one address
max_streams_per_tunnel = 20000
max_streams_total = 20000
max_connections_per_source = 1000000
max_connection_rate_per_source = 1000000
connection_burst_per_source = 1000000
{'admin = "127.0.0.1:0"' if any(n in UDP_SERVICES for n in backends) else ""}

[[listen]]
plugin = "{transport}"
address = "{_toml_addr(net.pub_ip, 0)}"
{listen_extra}"""
    for (name, _), port in zip(backends.items(), ports):
        edge_toml += f'\n[[tunnels]]\nid = "{name}"\ntoken = "bench-{name}"\npublic_port = {port}\n'
        if name in UDP_SERVICES:
            # one flow per client socket: the bench's few sockets are far from these limits, raised all the same
            edge_toml += 'kind = "udp"\nmax_flows = 65536\nmax_flows_per_source = 65536\n'
    with open(os.path.join(d, "edge.toml"), "w") as f:
        f.write(edge_toml)
    edge = procs.start(f"{tag}-edge", [warren, "edge", "--config", f"{d}/edge.toml"], ns=net.pub_ns)
    addr = procs.wait_line(f"{tag}-edge", edge, rf"^listen {transport} (\S+)", 30).group(1)
    pin = procs.wait_line(f"{tag}-edge", edge, r"^pin (\S+)", 30).group(1)
    metrics_url = None
    if any(n in UDP_SERVICES for n in backends):  # the udp rows read the edge's drop counters
        metrics_url = procs.wait_line(f"{tag}-edge", edge, r"^admin (\S+)", 30).group(1)
    connectors = {}
    for name, backend_port in backends.items():
        transport_extra = f"max_streams = {max_streams}\n" if max_streams else ""
        with open(os.path.join(d, f"connect-{name}.toml"), "w") as f:
            f.write(f"""[tunnel]
id = "{name}"
token = "bench-{name}"
edge_fingerprint = "{pin}"
grace_period = "1s"

[[transport]]
plugin = "{transport}"
{transport_extra}
[discovery]
plugin = "static"
edges = ["{addr}"]

[backend]
plugin = "{'udp' if name in UDP_SERVICES else 'tcp'}"
address = "127.0.0.1:{backend_port}"

[[policy]]
plugin = "backoff"
{UDP_CONNECTOR_ADMIN if name in UDP_SERVICES else ""}""")
        connectors[name] = procs.start(f"{tag}-connect-{name}",
                                       [warren, "connect", "--config", f"{d}/connect-{name}.toml"], ns=net.priv_ns)
    public, connector_metrics_url = {}, None
    for name, proc in connectors.items():
        host_port = procs.wait_line(f"{tag}-connect-{name}", proc, rf"^tunnel {name} (\S+)", 30).group(1)
        if name in UDP_SERVICES:  # the udp rows read the connector's drop counters too (it logs its admin address)
            connector_metrics_url = procs.wait_line(f"{tag}-connect-{name}", proc, r"admin (http://\S+/) \(", 30,
                                                    stream="err").group(1) + "metrics"
        port = int(host_port.rsplit(":", 1)[1])
        wait_listening(procs, net.pub_ns, port, 10, f"{tag} edge public port for {name}", udp=name in UDP_SERVICES)
        public[name] = ("127.0.0.1", port)
    first = next(iter(connectors))
    cpu_connector = connectors.get("iperf", connectors[first])
    http_connector = connectors.get("http", connectors[first])
    udp_connector = connectors.get("udp", connectors[first])
    return Path(transport, public, edge_pids=lambda: [edge.pid],
                connector_pids=lambda: [connectors[first].pid],
                cpu_pids=lambda: [edge.pid, cpu_connector.pid], note=f"edge {addr}",
                conn_cpu_pids=lambda: [edge.pid, http_connector.pid],
                udp_cpu_pids=lambda: [edge.pid, udp_connector.pid],
                udp_drops=lambda: udp_drop_counters(procs, net, metrics_url,
                                                    {edge.pid: "edge", udp_connector.pid: "connector"},
                                                    connector_metrics_url))


def kernel_udp_errors(procs, ns):
    """/proc/net/snmp Udp RcvbufErrors and SndbufErrors of namespace ns: datagrams the kernel dropped
    because a socket's buffer was full (its reader did not keep up)."""
    lines = [l.split() for l in procs.run(["cat", "/proc/net/snmp"], ns=ns, timeout=5).stdout.splitlines()
             if l.startswith("Udp:")]
    if len(lines) < 2:
        return {}
    row = dict(zip(lines[0][1:], lines[1][1:]))
    return {k: int(row[k]) for k in ("RcvbufErrors", "SndbufErrors") if k in row}


def socket_drops(procs, ns, roles):
    """Datagrams each process's UDP sockets dropped (ss skmem d: receive buffer full), by roles[pid]
    ("other" for the echo service, the clients) and receive buffer size: "socket_ROLE_rbNk", which tells
    a connector's QUIC socket from its flow sockets when their buffers differ."""
    out = {}
    text = procs.run(["ss", "-uanmpH"], ns=ns, timeout=5).stdout
    for m in re.finditer(r'users:\(\("[^"]*",pid=(\d+)[^\n]*\n?\s*skmem:\(([^)]*)\)', text):
        role = roles.get(int(m.group(1)), "other")
        mem = dict(re.findall(r'([a-z]+)(\d+)', m.group(2)))
        key = f"socket_{role}_rb{int(mem.get('rb', 0)) // 1024}k"
        out[key] = out.get(key, 0) + int(mem.get("d", 0))
    return out


def _dropped_by_reason(procs, ns, metrics_url, family, side, out):
    """Adds family's samples from metrics_url (read inside namespace ns) to out as "SIDE_REASON"."""
    text = procs.run(["curl", "-sf", "--max-time", "5", metrics_url], ns=ns, timeout=15).stdout
    for m in re.finditer(rf'^{family}\{{([^}}]*)\}} (\S+)', text, re.M):
        reason = re.search(r'reason="([^"]*)"', m.group(1))
        key = f"{side}_{reason.group(1) if reason else '?'}"
        out[key] = out.get(key, 0) + float(m.group(2))


def udp_drop_counters(procs, net, metrics_url, roles=None, connector_metrics_url=None):
    """Where datagrams were dropped so far: the edge's warren_udp_datagrams_dropped_total and the
    connector's warren_connector_udp_datagrams_dropped_total by reason, the kernel's socket-buffer drops
    on each side (one namespace on loopback) and per process."""
    out = {}
    # each admin port is on 127.0.0.1 of its process's own namespace: read it from there
    if metrics_url:
        _dropped_by_reason(procs, net.pub_ns, metrics_url, "warren_udp_datagrams_dropped_total", "edge", out)
    if connector_metrics_url:
        _dropped_by_reason(procs, net.priv_ns, connector_metrics_url,
                           "warren_connector_udp_datagrams_dropped_total", "connector", out)
    sides = {"public": net.pub_ns, "private": net.priv_ns} if net.pub_ns else {"host": None}
    for side, ns in sides.items():
        for k, v in kernel_udp_errors(procs, ns).items():
            out[f"kernel_{side}_{k}"] = v
        for k, v in socket_drops(procs, ns, roles or {}).items():
            out[k] = out.get(k, 0) + v
    return out


def ssh_keys(procs, tmp):
    d = os.path.join(tmp, "ssh")
    if not os.path.exists(os.path.join(d, "client_key")):
        os.makedirs(d, mode=0o700, exist_ok=True)
        for key in ("host_key", "client_key"):
            procs.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, key)], timeout=30)
        with open(os.path.join(d, "client_key.pub")) as src, open(os.path.join(d, "authorized_keys"), "w") as dst:
            dst.write(src.read())
        os.chmod(os.path.join(d, "authorized_keys"), 0o600)
    return d


def start_ssh(procs, tmp, net, cipher, backends, tag, name="ssh"):
    """A private sshd (public side) and `ssh -N -R` per backend from the private side."""
    d = ssh_keys(procs, tmp)
    ssh_port, *fwd_ports = free_ports(1 + len(backends))
    conf = os.path.join(d, f"{tag}-sshd_config")
    with open(conf, "w") as f:
        f.write(f"""Port {ssh_port}
ListenAddress {net.pub_ip}
HostKey {d}/host_key
PidFile none
AuthorizedKeysFile {d}/authorized_keys
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
""")
    os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
    sshd = procs.start(f"{tag}-sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", conf], ns=net.pub_ns)
    wait_listening(procs, net.pub_ns, ssh_port, 10, "sshd")
    argv = ["ssh", "-N", "-F", "/dev/null", "-p", str(ssh_port), "-i", f"{d}/client_key", "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR"]
    if cipher:
        argv += ["-c", cipher]
    backends = {k: v for k, v in backends.items() if k not in UDP_SERVICES}  # -R forwards TCP only
    public = {}
    for (service, backend_port), port in zip(backends.items(), fwd_ports):
        argv += ["-R", f"127.0.0.1:{port}:127.0.0.1:{backend_port}"]
        public[service] = ("127.0.0.1", port)
    ssh = procs.start(f"{tag}-ssh", argv + [f"root@{net.pub_ip}"], ns=net.priv_ns)
    for service, (_, port) in public.items():
        wait_listening(procs, net.pub_ns, port, 20, f"ssh -R for {service}")
    if cipher is None:
        g = subprocess.run(["ssh", "-F", "/dev/null", "-G", "x"], capture_output=True, text=True, timeout=10)
        cipher = next((l.split()[1].split(",")[0] for l in g.stdout.splitlines() if l.startswith("ciphers ")), "?")
    # sshd forks a process (or two, privilege separation) per connection; the listener itself is idle
    session = lambda: descendants(sshd.pid)
    # the session's sshd accepts the forwarded connections itself: no process per connection
    return Path(name, public, edge_pids=session, connector_pids=lambda: [ssh.pid],
                cpu_pids=lambda: session() + [ssh.pid], note=f"cipher {cipher}",
                conn_cpu_pids=lambda: session() + [ssh.pid])
