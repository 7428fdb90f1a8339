#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the JSON left by tests/bench/nvme_bench.sh and tests/bench/net_bench.sh
into Markdown tables.

A result file that is missing (the measurement failed or was not run) or
unreadable leaves its row out; it never stops the rest of the report.
"""
import json
import os
import sys


def load(rundir, name):
    """The parsed JSON of rundir/name, or None."""
    try:
        with open(os.path.join(rundir, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fio_row(d):
    """fio's --output-format=json: the first job's reads."""
    try:
        job = d["jobs"][0]["read"]
        return {
            "iops": job["iops"],
            "mean": job["lat_ns"]["mean"] / 1000.0,
            "p99": job["clat_ns"]["percentile"]["99.000000"] / 1000.0,
        }
    except (KeyError, IndexError, TypeError):
        return None


def vdf_row(d):
    """vdf-nvme --json perf and vdf-blk --json bench share these keys."""
    try:
        return {"iops": d["iops"], "mean": d["lat_mean_us"], "p99": d["lat_p99_us"]}
    except (KeyError, TypeError):
        return None


# (driver column, result file with %d for the queue depth, parser), in table order.
ROWS = [
    ("VDF nvme (interrupt)", "bench-vdf-interrupt-qd%d.json", vdf_row),
    ("VDF nvme (polled)", "bench-vdf-polled-qd%d.json", vdf_row),
    ("VDF client lib (eventfd)", "bench-client-eventfd-qd%d.json", vdf_row),
    ("VDF client lib (polled)", "bench-client-polled-qd%d.json", vdf_row),
    ("VDF via /dev/ublkb0 (fio io_uring)", "bench-ublk-qd%d.json", fio_row),
    ("VDF via /dev/nbd0 (fio io_uring)", "bench-nbd-qd%d.json", fio_row),
]


def row(rundir, name, parse):
    d = load(rundir, name)
    return parse(d) if d is not None else None


def nvme_table(rundir):
    lines = [
        "| workload | driver | IOPS | mean latency (us) | p99 latency (us) | VDF/kernel IOPS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for qd in (1, 32):
        k = row(rundir, "bench-kernel-qd%d.json" % qd, fio_row)
        if k:
            lines.append("| 4K randread QD%d | Linux nvme (fio io_uring) | %.0f | %.1f | %.1f | 1.00 |"
                         % (qd, k["iops"], k["mean"], k["p99"]))
        for label, pattern, parse in ROWS:
            v = row(rundir, pattern % qd, parse)
            if not v:
                continue
            ratio = "%.2f" % (v["iops"] / k["iops"]) if k and k["iops"] else "-"
            lines.append("| 4K randread QD%d | %s | %.0f | %.1f | %.1f | %s |"
                         % (qd, label, v["iops"], v["mean"], v["p99"], ratio))
    return lines


def ring_table(rundir):
    lines = ["| transport | mode | round trips | mean (us) | p50 (us) | p99 (us) |",
             "|---|---|---:|---:|---:|---:|"]
    found = False
    for mode in ("polled", "eventfd"):
        r = load(rundir, "bench-ring-%s.json" % mode)
        try:
            lines.append("| VDF ring pair, 2 processes | %s | %d | %.2f | %.2f | %.2f |"
                         % (mode, r["round_trips"], r["mean_us"], r["p50_us"], r["p99_us"]))
            found = True
        except (KeyError, TypeError):
            continue
    return lines if found else []


def round_trip_lines(rundir):
    """QD1 mean latency through the block service against the stand-alone
    driver (the driver under vdfd takes device interrupts whatever the client
    does, so the base is interrupt mode) and against the bare ring."""
    base = row(rundir, "bench-vdf-interrupt-qd1.json", vdf_row)
    lines = []
    for mode in ("eventfd", "polled"):
        c = row(rundir, "bench-client-%s-qd1.json" % mode, vdf_row)
        if not c:
            continue
        s = "- client → driver → device, %s client, QD1: mean %.1f us" % (mode, c["mean"])
        if base:
            s += "; stand-alone driver (interrupt) %.1f us, so the service adds %+.1f us" % (
                base["mean"], c["mean"] - base["mean"])
        r = load(rundir, "bench-ring-%s.json" % mode)
        if r and "mean_us" in r:
            s += "; bare ring round trip (%s, 2 processes) %.2f us" % (mode, r["mean_us"])
        lines.append(s + ".")
    if lines:
        lines.insert(0, "Block service round trip (same boot):")
    return lines


def pps(rundir, name):
    d = load(rundir, name)
    try:
        return float(d["pps"])
    except (KeyError, TypeError, ValueError):
        return None


def tcp_mbps(rundir, name):
    d = load(rundir, name)
    try:
        return d["end"]["sum_received"]["bits_per_second"] / 1e6
    except (KeyError, TypeError):
        return None


def ratio(v, k):
    return "%.2f" % (v / k) if v is not None and k else "-"


def fmt(v, spec):
    return spec % v if v is not None else "-"


def net_tables(rundir):
    """Packet rates and TCP throughput, VDF + vdf-tap against the kernel driver."""
    lines = [
        "| NIC | direction | frame (wire) | batch | Linux kernel pps | VDF+TAP pps | VDF/kernel |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    found = False
    for model in ("e1000", "e1000e"):
        for direction in ("tx", "rx"):
            for size in (60, 1514):
                for batch in (1, 8, 32):
                    name = "net-%s-%%s-%s-%d-b%d.json" % (model, direction, size, batch)
                    k, v = pps(rundir, name % "kernel"), pps(rundir, name % "vdf")
                    if k is None and v is None:
                        continue
                    found = True
                    lines.append("| %s | %s | %d | %d | %s | %s | %s |" % (
                        model, direction, size + 4, batch, fmt(k, "%.0f"), fmt(v, "%.0f"),
                        ratio(v, k)))
    tcp = ["| NIC | TCP (iperf3) | Linux kernel Mbit/s | VDF+TAP Mbit/s | VDF/kernel |",
           "|---|---|---:|---:|---:|"]
    for model in ("e1000", "e1000e"):
        for direction, label in (("up", "guest sends"), ("down", "guest receives (-R)")):
            name = "net-%s-%%s-tcp-%s.json" % (model, direction)
            k, v = tcp_mbps(rundir, name % "kernel"), tcp_mbps(rundir, name % "vdf")
            if k is None and v is None:
                continue
            found = True
            tcp.append("| %s | %s | %s | %s | %s |" % (model, label, fmt(k, "%.1f"),
                                                       fmt(v, "%.1f"), ratio(v, k)))
    return lines + [""] + tcp if found else []


def main():
    rundir = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "net":
        print("\n".join(net_tables(rundir)))
        return
    out = nvme_table(rundir)
    ring = ring_table(rundir)
    if ring:
        out += [""] + ring
    rt = round_trip_lines(rundir)
    if rt:
        out += [""] + rt
    print("\n".join(out))


if __name__ == "__main__":
    main()
