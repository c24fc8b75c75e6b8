"""The one table bench/run.py prints: a row per figure and network, a column per path.

Each tunnel cell shows the figure and its ratio to direct (d) and to default `ssh -R` (s),
both measured in the same run: "3.31 d0.11 s1.05".
"""

COLUMNS = (("direct", "direct"), ("quic", "warren QUIC"), ("http2", "warren HTTP/2"), ("ssh", "ssh -R"),
           ("ssh-gcm", "ssh -R aes128-gcm"))

# key, label, decimals, ratio to direct, ratio to ssh -R
NETWORK_ROWS = (
    ("up_gbit_s", "bulk up, Gbit/s", 2, True, True),
    ("down_gbit_s", "bulk down, Gbit/s", 2, True, True),
    ("up_cpu_s_per_gb", "CPU s/GB up (tunnel procs)", 2, False, True),
    ("down_cpu_s_per_gb", "CPU s/GB down (tunnel procs)", 2, False, True),
    ("ping_p50_us", "64 B ping-pong p50, us", 0, True, True),
    ("ping_p99_us", "64 B ping-pong p99, us", 0, True, True),
    ("added_p50_us", "added p50, us", 0, False, True),
    ("added_p99_us", "added p99, us", 0, False, True),
    ("conn_per_s", "new connections/s", 0, True, True),
    ("conn_errors", "  errors", 0, False, False),
    ("conn_cpu_us", "  CPU us per connection (tunnel procs)", 1, False, True),
    ("ttfb_p50_us", "time to first byte p50, us", 0, True, True),
    ("ttfb_p99_us", "time to first byte p99, us", 0, True, True),
)


def udp_rows(sizes):
    rows = [("udp_p50_us", "udp 64 B round trip p50, us", 0, True, False),
            ("udp_p99_us", "udp 64 B round trip p99, us", 0, True, False),
            ("udp_added_p50_us", "udp added p50, us", 0, False, False),
            ("udp_added_p99_us", "udp added p99, us", 0, False, False)]
    for n in sizes:
        rows += [(f"udp_{n}_per_s", f"udp {n:,} B echoed datagrams/s at < 1 % loss", 0, True, False),
                 (f"udp_{n}_loss_pct", "  loss % there", 2, False, False),
                 (f"udp_{n}_cpu_s_per_100k", "  CPU s per 100k echoed (edge + connector)", 2, False, False),
                 (f"udp_{n}_drops", "  where the next rate up lost them", None, False, False)]
    return rows


def memory_rows(streams, busy_streams, busy_bytes):
    rows = [("rss_idle_edge_mib", "RSS idle, edge / sshd session, MiB", 1, False, True),
            ("rss_idle_connector_mib", "RSS idle, connector / ssh, MiB", 1, False, True)]
    for n in streams:
        rows.append((f"kib_per_stream_edge_{n}", f"KiB per idle stream at {n:,}, edge side", 1, False, True))
        rows.append((f"kib_per_stream_connector_{n}", f"KiB per idle stream at {n:,}, connector side", 1, False,
                     True))
    last = f"{streams[-1]:,}" if streams else "?"
    rows += [("rss_after_edge_mib", "RSS {w} s after the " + last + " streams closed, edge side, MiB", 1, False, False),
             ("rss_after_connector_mib", "RSS {w} s after the " + last + " streams closed, connector side, MiB", 1,
              False, False)]
    if busy_streams:
        what = f"KiB per idle stream at {busy_streams:,} that echoed {busy_bytes // 1024} KiB first"
        rows.append(("kib_per_busy_stream_edge", what + ", edge side", 1, False, True))
        rows.append(("kib_per_busy_stream_connector", what + ", connector side", 1, False, True))
    return rows


def _num(v, decimals):
    if v is None:
        return ""
    if decimals == 0:
        return f"{v:+,.0f}" if isinstance(v, float) and v < 0 else f"{v:,.0f}"
    return f"{v:,.{decimals}f}"


def _ratio(v, ref):
    if v is None or ref is None or ref <= 0 or v < 0:
        return None
    return v / ref


def _cell(res, col, key, decimals, to_direct, to_ssh, direct, ssh):
    if "unavailable" in res:
        return res["unavailable"]
    if key.startswith("udp") and "udp_unavailable" in res:
        return res["udp_unavailable"]
    v = res.get(key)
    if v is None:
        return "failed" if ("error" in res and not key.startswith(("rss", "kib"))) or \
            ("memory_error" in res and key.startswith(("rss", "kib"))) else "-"
    if isinstance(v, str):
        return v
    text = _num(v, decimals)
    parts = []
    if to_direct and col != "direct":
        r = _ratio(v, direct.get(key))
        if r is not None:
            parts.append(f"d{r:.2f}")
    if to_ssh and col not in ("direct", "ssh"):
        r = _ratio(v, ssh.get(key))
        if r is not None:
            parts.append(f"s{r:.2f}")
    return text + (" " + " ".join(parts) if parts else "")


def render(doc, markdown):
    m, s = doc["machine"], doc["settings"]
    cols = [(k, label) for k, label in COLUMNS if k in s["paths"]]
    header = ["figure"] + [label for _, label in cols]
    body = []
    for net in s["networks"]:
        results = doc["results"].get(net, {})
        rows = list(NETWORK_ROWS)
        if "udp" in s["figures"]:
            rows += udp_rows(s.get("udp_sizes", []))
        if "memory" in s["figures"] and net == "loopback":
            rows += memory_rows(s["streams"], s.get("busy_streams"), s.get("busy_bytes", 0))
        direct, ssh = results.get("direct", {}), results.get("ssh", {})
        body.append([f"**{net}**" if markdown else f"[{net}]"] + [""] * len(cols))
        for key, label, decimals, to_d, to_s in rows:
            if key.startswith(("up_", "down_")) and "throughput" not in s["figures"]:
                continue
            if key.startswith(("ping", "added")) and "pingpong" not in s["figures"]:
                continue
            if key.startswith("conn") and "cps" not in s["figures"]:
                continue
            if key.startswith("ttfb") and "ttfb" not in s["figures"]:
                continue
            label = label.format(w=s["after_wait"])
            body.append([label] + [_cell(results.get(k, {}), k, key, decimals, to_d, to_s, direct, ssh)
                                   for k, _ in cols])
    lines = [
        f"warren bench: commit {m['commit']} (warren code last changed in {m.get('code_commit', '?')}), "
        f"{m['date_utc']}",
        f"machine: {m['nproc']} CPUs, {m['cpu']}, kernel {m['kernel']}; "
        f"load average {' '.join(m['loadavg_start'])} at start, {' '.join(m.get('loadavg_end', []))} at end; "
        f"took {m.get('took_s', '?')} s",
        f"command: {m['command']}",
        f"iperf3 one stream {s['seconds']} s (+1 omitted) each way; {s['rounds']} x 64 B ping-pong; "
        f"wrk -c {s['conn_concurrency']} {s['conn_seconds']} s with Connection: close; {s['ttfb_count']} sequential "
        f"connections for time to first byte; memory on loopback"
        + (f"; udp: {s['udp_rounds']} x 64 B ping-pong, rate steps of {s['udp_seconds']:g} s up to "
           f"{max(s['udp_rates']):,}/s from one socket (python client and echo)" if "udp" in s["figures"] else ""),
        "cells: value, then its ratio to direct (d) and to default ssh -R (s) from the same run",
    ]
    notes = []
    for net, per_path in doc["results"].items():
        for path, res in per_path.items():
            if res.get("note"):
                notes.append(f"{net} {path}: {res['note']}")
    if markdown:
        out = [line + "  " for line in lines] + [""]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["--:"] * len(cols)) + "|")
        out += ["| " + " | ".join(row) + " |" for row in body]
    else:
        widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
        fmt = lambda row: " | ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))
        out = lines + ["", fmt(header), "-+-".join("-" * w for w in widths)] + [fmt(r) for r in body]
    if notes:
        out += ["", "paths: " + "; ".join(notes)]
    return "\n".join(out)
