#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the JSON left by tests/bench/nvme_bench.sh into a Markdown table."""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def kernel_row(d):
    job = d["jobs"][0]["read"]
    return {
        "iops": job["iops"],
        "mean": job["lat_ns"]["mean"] / 1000.0,
        "p99": job["clat_ns"]["percentile"]["99.000000"] / 1000.0,
    }


def main():
    rundir = sys.argv[1]
    lines = [
        "| workload | driver | IOPS | mean latency (us) | p99 latency (us) | VDF/kernel IOPS |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for qd in (1, 32):
        k = kernel_row(load(os.path.join(rundir, "bench-kernel-qd%d.json" % qd)))
        lines.append("| 4K randread QD%d | Linux nvme (fio io_uring) | %.0f | %.1f | %.1f | 1.00 |"
                     % (qd, k["iops"], k["mean"], k["p99"]))
        for mode in ("interrupt", "polled"):
            v = load(os.path.join(rundir, "bench-vdf-%s-qd%d.json" % (mode, qd)))
            lines.append("| 4K randread QD%d | VDF nvme (%s) | %.0f | %.1f | %.1f | %.2f |"
                         % (qd, mode, v["iops"], v["lat_mean_us"], v["lat_p99_us"],
                            v["iops"] / k["iops"] if k["iops"] else 0))
    lines += ["", "| transport | mode | round trips | mean (us) | p50 (us) | p99 (us) |",
              "|---|---|---:|---:|---:|---:|"]
    for mode in ("polled", "eventfd"):
        path = os.path.join(rundir, "bench-ring-%s.json" % mode)
        if not os.path.exists(path):
            continue
        r = load(path)
        lines.append("| VDF ring pair, 2 processes | %s | %d | %.2f | %.2f | %.2f |"
                     % (mode, r["round_trips"], r["mean_us"], r["p50_us"], r["p99_us"]))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
