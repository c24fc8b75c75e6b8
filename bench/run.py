#!/usr/bin/env python3
"""warren benchmark: direct, warren (QUIC, HTTP/2) and `ssh -R` side by side, on loopback
and on a 1500-MTU veth link between two network namespaces, in one run and one table.

A benchmark, not a test: it exits 0 whatever the figures, non-zero only when something
failed to run. Needs root (network namespaces, a private sshd). See bench/README.md.
"""
import argparse
import glob
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import paths  # noqa: E402
import table  # noqa: E402
from procs import BenchError, Procs, Veth, raise_nofile  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_PATHS = ("direct", "quic", "http2", "ssh", "ssh-gcm")
ALL_FIGURES = ("throughput", "pingpong", "cps", "ttfb", "memory", "udp")
UDP_RATES = "1000,2000,3000,5000,7000,10000,15000,20000,30000,40000,50000,70000,100000"
GCM = "aes128-gcm@openssh.com"


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build"), help="warren build tree (default ./build)")
    ap.add_argument("--networks", default="loopback,veth", help="loopback,veth")
    ap.add_argument("--paths", default=",".join(ALL_PATHS), help=",".join(ALL_PATHS))
    ap.add_argument("--figures", default=",".join(ALL_FIGURES), help=",".join(ALL_FIGURES))
    ap.add_argument("--seconds", type=int, default=5, help="iperf3 seconds per direction, after 1 omitted")
    ap.add_argument("--rounds", type=int, default=5000, help="64 B ping-pong round trips (after 500 warm-up)")
    ap.add_argument("--conn-seconds", type=int, default=5, help="wrk seconds for new connections per second")
    ap.add_argument("--conn-concurrency", type=int, default=32, help="wrk connections in flight")
    ap.add_argument("--ttfb-count", type=int, default=1000, help="sequential connections for time to first byte")
    ap.add_argument("--streams", default="1000,10000", help="open idle stream counts for memory")
    ap.add_argument("--ssh-streams-max", type=int, default=1000,
                    help="largest idle stream count for the ssh paths' memory rows (ssh opens 10,000 slowly)")
    ap.add_argument("--busy-streams", type=int, default=1000,
                    help="streams for the 'idle after moving data' memory row (0: skip it)")
    ap.add_argument("--busy-bytes", type=int, default=65536, help="bytes each of those echoes once before it idles")
    ap.add_argument("--udp-rounds", type=int, default=5000, help="64 B UDP ping-pong round trips (after 10%% warm-up)")
    ap.add_argument("--udp-sizes", default="1200,64", help="datagram sizes for the udp rate rows")
    ap.add_argument("--udp-rates", default=UDP_RATES, help="datagrams/s sent, step by step, until 5%% are lost")
    ap.add_argument("--udp-seconds", type=float, default=2.0, help="seconds per udp rate step")
    ap.add_argument("--after-wait", type=int, default=15, help="seconds after the last idle load ends to read RSS")
    ap.add_argument("--quick", action="store_true",
                    help="about 2 minutes: --seconds 2 --rounds 2000 --conn-seconds 2 --ttfb-count 300 "
                         "--streams 1000 --after-wait 5 --busy-streams 500 --udp-rounds 2000 --udp-seconds 1")
    ap.add_argument("--json", help="write every figure, the machine and the commit to this file")
    ap.add_argument("--markdown", help="write the table as markdown to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.seconds, a.rounds, a.conn_seconds, a.ttfb_count, a.streams, a.after_wait = 2, 2000, 2, 300, "1000", 5
        a.busy_streams = min(a.busy_streams, 500)
        a.udp_rounds, a.udp_seconds = 2000, 1.0
    for name in ("networks", "paths", "figures"):
        items = [x for x in getattr(a, name).split(",") if x]
        allowed = {"networks": ("loopback", "veth"), "paths": ALL_PATHS, "figures": ALL_FIGURES}[name]
        bad = [x for x in items if x not in allowed]
        if bad:
            ap.error(f"--{name}: unknown {', '.join(bad)} (choose from {', '.join(allowed)})")
        setattr(a, name, items)
    a.streams = [int(x) for x in a.streams.split(",") if x]
    a.udp_sizes = [int(x) for x in a.udp_sizes.split(",") if x]
    a.udp_rates = [int(x) for x in a.udp_rates.split(",") if x]
    if a.figures == ["memory"] and "loopback" not in a.networks:
        ap.error("memory runs on loopback only: add --networks loopback")
    if not a.streams or min(a.streams) < 1:
        ap.error("--streams needs positive counts, e.g. 1000,10000")
    return a


T0 = time.monotonic()


def say(msg):
    print(f"[bench {time.monotonic() - T0:5.0f}s] {msg}", file=sys.stderr, flush=True)


def machine_info(build_dir):
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    git = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--tags"], capture_output=True,
                         text=True, timeout=10)
    sha = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         timeout=10)
    # the last commit that changed warren itself (bench/ and test tools do not change the figures)
    code = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%h", "--", "core", "sdk", "transports", "plugins",
                           "discovery", "CMakeLists.txt"], capture_output=True, text=True, timeout=10)
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "commit": git.stdout.strip() or sha.stdout.strip(), "code_commit": code.stdout.strip(),
            "build_dir": build_dir,
            "loadavg_start": open("/proc/loadavg").read().split()[:3],
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def find_tools(build_dir):
    tools = {"warren": os.path.join(build_dir, "bin", "warren"),
             "client": os.path.join(build_dir, "tests", "bin", "warren-bench-client"),
             "loadgen": os.path.join(build_dir, "tests", "bin", "warren-loadgen")}
    for name, path in tools.items():
        if not os.access(path, os.X_OK):
            raise BenchError(f"no {path}: build first (cmake --build {build_dir} --target "
                             f"{'warren' if name == 'warren' else os.path.basename(path)} ...)")
    plugins = glob.glob(os.path.join(build_dir, "lib*", "**", "libwarren-transport-*.so"), recursive=True)
    for extra in os.environ.get("WARREN_PLUGIN_PATH", "").split(":"):
        if extra:
            plugins += glob.glob(os.path.join(extra, "libwarren-transport-*.so"))
    tools["http2"] = any(os.path.basename(p) == "libwarren-transport-http2.so" for p in plugins)
    return tools


def measure_path(a, procs, tools, net, path, res, ref):
    """Every selected network figure for one path, into res (a dict)."""
    ns = net.pub_ns
    if "throughput" in a.figures:
        for direction, reverse in (("up", False), ("down", True)):
            say(f"{net.name} {path.name}: iperf3 {direction} {a.seconds}s")
            r = measure.iperf(procs, ns, *path.public["iperf"], a.seconds, reverse, path.cpu_pids)
            res[f"{direction}_gbit_s"] = r["gbit_s"]
            if "cpu_s_per_gb" in r:
                res[f"{direction}_cpu_s_per_gb"] = r["cpu_s_per_gb"]
    if "pingpong" in a.figures:
        say(f"{net.name} {path.name}: ping-pong {a.rounds} x 64 B")
        r = measure.latency(procs, tools["client"], ns, "pingpong", *path.public["echo"], a.rounds,
                            max(100, a.rounds // 10))
        res["ping_p50_us"], res["ping_p99_us"] = r["p50"], r["p99"]
        if ref.get("ping_p50_us") is not None and path.name != "direct":
            res["added_p50_us"] = r["p50"] - ref["ping_p50_us"]
            res["added_p99_us"] = r["p99"] - ref["ping_p99_us"]
    if "cps" in a.figures:
        say(f"{net.name} {path.name}: wrk Connection: close {a.conn_seconds}s")
        r = measure.conns_per_second(procs, ns, *path.public["http"], a.conn_seconds, a.conn_concurrency,
                                     cpu_pids=path.conn_cpu_pids)
        res["conn_per_s"], res["conn_errors"] = r["per_s"], r["errors"]
        if "cpu_us_per_conn" in r:
            res["conn_cpu_us"] = r["cpu_us_per_conn"]
    if "ttfb" in a.figures:
        say(f"{net.name} {path.name}: time to first byte x {a.ttfb_count}")
        r = measure.latency(procs, tools["client"], ns, "ttfb", *path.public["http"], a.ttfb_count,
                            max(10, a.ttfb_count // 20))
        res["ttfb_p50_us"], res["ttfb_p99_us"] = r["p50"], r["p99"]
    if "udp" in a.figures:
        measure_udp(a, procs, net, path, res, ref)


def measure_udp(a, procs, net, path, res, ref):
    """UDP round trip and rate through the path's udp tunnel (the direct path: to the UDP echo itself)."""
    if "udp" not in path.public:
        res["udp_unavailable"] = "n/a (no UDP)"
        return
    ns, (host, port) = net.pub_ns, path.public["udp"]
    say(f"{net.name} {path.name}: udp ping-pong {a.udp_rounds} x 64 B")
    r = measure.udp_pingpong(procs, ns, host, port, a.udp_rounds, max(100, a.udp_rounds // 10))
    res["udp_ping"] = r  # count, lost, p50, p90, p99, mean, min, max
    res["udp_p50_us"], res["udp_p99_us"] = r["p50"], r["p99"]
    if ref.get("udp_p50_us") is not None and path.name != "direct":
        res["udp_added_p50_us"] = r["p50"] - ref["udp_p50_us"]
        res["udp_added_p99_us"] = r["p99"] - ref["udp_p99_us"]
    for size in a.udp_sizes:
        say(f"{net.name} {path.name}: udp rate, {size} B datagrams, {a.udp_seconds:g} s per step")
        r = measure.udp_rate(procs, ns, host, port, size, a.udp_rates, a.udp_seconds, path.udp_cpu_pids,
                             path.udp_drops)
        res[f"udp_rate_{size}"] = r
        res[f"udp_{size}_per_s"] = r.get("echoed_per_s")
        res[f"udp_{size}_loss_pct"] = r.get("loss_percent")
        if "cpu_s_per_100k" in r:
            res[f"udp_{size}_cpu_s_per_100k"] = r["cpu_s_per_100k"]
        if "lossy_rate" in r:
            res[f"udp_{size}_drops"] = measure.drops_text(r["lossy_rate"], r["lossy_drops"])


def start_path(a, procs, tmp, tools, net, name, services):
    if name == "direct":
        return paths.direct_path(net, services, procs)
    if name in ("quic", "http2"):
        return paths.start_warren(procs, tmp, tools["warren"], net, name, services, f"{net.name}-{name}")
    return paths.start_ssh(procs, tmp, net, GCM if name == "ssh-gcm" else None, services, f"{net.name}-{name}", name)


def _memory_run(a, procs, tmp, tools, net, name, tag, counts, after_wait, touch):
    """Fresh tunnel processes, one tunnel to a C echo backend; measure.memory on them."""
    mark = len(procs.started)
    try:
        port = paths.free_ports(1)[0]
        backend = procs.start(f"{tag}-backend",
                              [tools["loadgen"], "echo", "--port", str(port), "--seconds", "3600"], ns=net.priv_ns)
        procs.wait_line(f"{tag}-backend", backend, r"^echo ready", 10)
        if name in ("quic", "http2"):
            p = paths.start_warren(procs, tmp, tools["warren"], net, name, {"idle": port}, tag, max_streams=20000)
        else:
            p = paths.start_ssh(procs, tmp, net, GCM if name == "ssh-gcm" else None, {"idle": port}, tag, name)
        say(f"{net.name} {name}: memory with {', '.join(map(str, counts))} idle streams"
            + (f" that echoed {touch} B each" if touch else ""))
        return measure.memory(p.public["idle"][1], {"edge": p.edge_pids, "connector": p.connector_pids}, counts,
                              after_wait, tag, touch)
    finally:
        procs.stop_since(mark)


def run_memory(a, procs, tmp, tools, net, name, res):
    """Idle RSS, RSS per open idle stream, RSS after the load; then per stream that moved data first."""
    counts = a.streams
    if name.startswith("ssh"):
        # OpenSSH walks every channel on each event: opening 10,000 channels takes it minutes. Its rows stop at
        # --ssh-streams-max (a reference, not a goal), and its "after" figure follows that load.
        counts = [n for n in a.streams if n <= a.ssh_streams_max] or a.streams[:1]
    m = _memory_run(a, procs, tmp, tools, net, name, f"{net.name}-mem-{name}", counts, a.after_wait, 0)
    res["memory"] = m
    mib = lambda kib: kib / 1024
    res["rss_idle_edge_mib"] = mib(m["idle_kib"]["edge"])
    res["rss_idle_connector_mib"] = mib(m["idle_kib"]["connector"])
    for n in counts:
        for side in ("edge", "connector"):
            res[f"kib_per_stream_{side}_{n}"] = m[f"at_{n}"]["per_stream_kib"][side]
    if "after_kib" in m and counts[-1] == a.streams[-1]:  # the row is "after the largest load"
        res["rss_after_edge_mib"] = mib(m["after_kib"]["edge"])
        res["rss_after_connector_mib"] = mib(m["after_kib"]["connector"])
    if a.busy_streams:
        n = a.busy_streams
        b = _memory_run(a, procs, tmp, tools, net, name, f"{net.name}-busy-{name}", [n], 0, a.busy_bytes)
        res["memory_busy"] = b
        for side in ("edge", "connector"):
            res[f"kib_per_busy_stream_{side}"] = b[f"at_{n}"]["per_stream_kib"][side]


def run_network(a, procs, tmp, tools, net, results, failures):
    out = results.setdefault(net.name, {})
    services = paths.start_services(procs, tmp, net, tools["client"], udp="udp" in a.figures)
    network_figures = set(a.figures) - {"memory"}
    for name in a.paths:
        res = out.setdefault(name, {})
        if name == "http2" and not tools["http2"]:
            res["unavailable"] = "n/a (no http2 plugin)"
            continue
        if network_figures == {"udp"} and name.startswith("ssh"):
            res["udp_unavailable"] = "n/a (no UDP)"  # no need to start sshd for nothing
        elif network_figures:
            mark = len(procs.started)
            try:
                path = start_path(a, procs, tmp, tools, net, name, services)
                res["note"] = path.note
                measure_path(a, procs, tools, net, path, res, out.get("direct", {}))
            except BenchError as e:
                failures.append(f"{net.name} {name}: {e}")
                res["error"] = str(e).splitlines()[0]
                say(f"FAILED {net.name} {name}: {e}")
            finally:
                procs.stop_since(mark)
        # memory does not depend on the cipher: ssh-gcm would repeat ssh's rows
        if "memory" in a.figures and net.name == "loopback" and name not in ("direct", "ssh-gcm"):
            try:
                run_memory(a, procs, tmp, tools, net, name, res)
            except BenchError as e:
                failures.append(f"{net.name} {name} memory: {e}")
                res["memory_error"] = str(e).splitlines()[0]
                say(f"FAILED {net.name} {name} memory: {e}")


def _on_term(signum, frame):
    say("SIGTERM: cleaning up")
    sys.exit(143)


def main(argv):
    a = parse_args(argv)
    if os.geteuid() != 0:
        print("run.py: needs root (network namespaces, a private sshd on the veth link)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_term)
    info = machine_info(a.build_dir)
    info["command"] = "bench/run.py " + " ".join(argv)
    info["nofile"] = raise_nofile()
    tmp = tempfile.mkdtemp(prefix="warren-bench.")
    procs = Procs(tmp, a.verbose)
    veth = Veth(procs)
    results, failures = {}, []
    try:
        tools = find_tools(a.build_dir)
        info["http2_plugin"] = tools["http2"]
        say(f"commit {info['commit']}, {info['nproc']} CPUs, load {' '.join(info['loadavg_start'])}; temp {tmp}")
        for name in a.networks:
            if name == "loopback":
                net = paths.Net("loopback")
            else:
                veth.setup()
                net = paths.Net("veth", veth.pub, veth.priv, veth.pub_ip, veth.priv_ip)
            try:
                run_network(a, procs, tmp, tools, net, results, failures)
            finally:
                procs.stop_all()
                if name == "veth":
                    veth.teardown()
    except BenchError as e:
        failures.append(str(e))
        say(f"FAILED: {e}")
    except KeyboardInterrupt:
        failures.append("interrupted")
        say("interrupted: cleaning up")
    except Exception:
        failures.append(traceback.format_exc())
        say(traceback.format_exc())
    finally:
        procs.stop_all()
        veth.teardown()
        if a.keep:
            say(f"kept {tmp}")
        else:
            subprocess.run(["rm", "-rf", tmp], timeout=60)
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["took_s"] = round(time.monotonic() - T0)
    doc = {"machine": info, "settings": {k: v for k, v in vars(a).items() if k not in ("json", "markdown")},
           "results": results, "failures": failures}
    print(table.render(doc, markdown=False))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table.render(doc, markdown=True) + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
    if failures:
        print(f"\n{len(failures)} part(s) failed to run:", file=sys.stderr)
        for f in failures:
            lines = [l for l in f.splitlines() if l.strip()]
            print("  " + " ... ".join(lines[:1] + lines[-1:] if len(lines) > 1 else lines)[:600], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
