#!/usr/bin/env python3
"""The fault matrix's figures (issue 11, item 1): runs each case of
integration_fault_matrix_test TRIALS times (default 20), one process per
trial with its own seed (WARREN_FAULT_TRIALS=1, WARREN_FAULT_SEED=i), and
prints per case: successes/TRIALS, the p50/p99 of its duration, and the
edge's and connector's peak RSS (VmHWM, the largest over the trials).

    tests/tools/fault_matrix.py --build build [--trials 20] [--cases loss,handshake,backend,many]
                                [--connections 10000]

The many-connections case runs with WARREN_FAULT_CONNECTIONS (10,000 here;
1,000 in CTest). Each trial's "fault-figure" line is printed as it comes.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import time

CASES = {
    "loss": ("fault: 2 percent loss with reordering and duplication keeps 1 MiB echoes byte-exact", "echo_ms"),
    "handshake": ("fault: 30 percent loss both ways during handshakes still registers the tunnel", "register_ms"),
    "backend": ("fault: a backend killed under load resets only its own public clients and serves again once back",
                "reset_max_ms"),
    "many": ("fault: many concurrent tunnelled connections each echo their own random bytes byte-exact",
             "all_echoed_ms"),
}
# Further durations reported for a case beside its main one.
EXTRA_DURATIONS = {"handshake": ["both_legs_ms"], "backend": ["reset_p50_ms", "down_probe_ms", "serving_again_ms"],
                   "many": ["all_connected_ms", "total_ms"]}


def percentile(values, p):
    """Nearest rank, as fault_trials.hpp."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def run_trial(binary, name, seed, extra_env, timeout):
    env = dict(os.environ, WARREN_FAULT_TRIALS="1", WARREN_FAULT_SEED=str(seed), **extra_env)
    started = time.monotonic()
    try:
        done = subprocess.run([binary, name], env=env, capture_output=True, text=True, timeout=timeout)
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = -1, (e.stdout or b"").decode(errors="replace"), "timed out"
    figures = {}
    for line in out.splitlines():
        if line.startswith("fault-figure "):
            figures = dict(re.findall(r"(\w+)=(\S+)", line))
            print("  " + line, flush=True)
    ok = code == 0 and figures.get("ok") == "1"
    # The whole trial, process start to exit: the edge's and connector's
    # start and registration included, which the case's own figures are not.
    figures["trial_s"] = f"{time.monotonic() - started:.1f}"
    if not ok:
        tail = "\n".join((out + err).splitlines()[-30:])
        print(f"  trial seed={seed} FAILED (exit {code}, {time.monotonic() - started:.1f} s):\n{tail}", flush=True)
    return ok, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--cases", default="loss,handshake,backend,many")
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--first-seed", type=int, default=1)
    args = parser.parse_args()
    binary = os.path.join(args.build, "tests", "bin", "integration_fault_matrix_test")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not found: build the target integration_fault_matrix_test first")

    summary = []
    for key in args.cases.split(","):
        name, main_duration = CASES[key]
        extra_env = {}
        timeout = 180
        if key == "many":
            extra_env = {"WARREN_FAULT_CONNECTIONS": str(args.connections),
                         "WARREN_FAULT_DEADLINE_S": str(max(25, args.connections // 100))}
            timeout = 60 + max(25, args.connections // 100)
        print(f"== {key}: {name} ({args.trials} trials)", flush=True)
        ok_count, durations, hwm = 0, {}, {"edge_hwm_kib": 0, "connector_hwm_kib": 0}
        trial_seconds = []
        for i in range(args.trials):
            ok, figures = run_trial(binary, name, args.first_seed + i, extra_env, timeout)
            ok_count += ok
            trial_seconds.append(float(figures["trial_s"]))
            print(f"  trial {i + 1}/{args.trials} seed={args.first_seed + i} {'ok' if ok else 'FAILED'} in "
                  f"{figures['trial_s']} s (load {os.getloadavg()[0]:.1f})", flush=True)
            for field in [main_duration] + EXTRA_DURATIONS.get(key, []):
                if ok and field in figures:
                    durations.setdefault(field, []).append(float(figures[field]))
            for field in hwm:
                hwm[field] = max(hwm[field], int(figures.get(field, "0")))
        parts = [f"{key}: {ok_count}/{args.trials} ok"]
        for field, values in durations.items():
            parts.append(f"{field} p50 {percentile(values, 50):.0f} p99 {percentile(values, 99):.0f}")
        parts.append(f"trial wall time p50 {percentile(trial_seconds, 50):.1f} s max {max(trial_seconds):.1f} s")
        parts.append(f"peak RSS edge {hwm['edge_hwm_kib'] / 1024:.1f} MiB, connector "
                     f"{hwm['connector_hwm_kib'] / 1024:.1f} MiB")
        summary.append("; ".join(parts))
        print(summary[-1], flush=True)
    print("\n== summary")
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()
