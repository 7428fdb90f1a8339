#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: run the benchmark scenarios in the guest and print a Markdown
# table of VDF against the Linux kernel driver measured in the same boot.
set -euo pipefail
cd "$(dirname "$0")/.."
rundir=$(mktemp -d /tmp/vdf-bench.XXXXXX)
trap 'rm -rf "$rundir"' EXIT
echo "bench: NVMe 4 KiB random read, VDF vs Linux nvme driver (same guest boot)..." >&2
vm/run --rundir "$rundir/vm" --timeout 900 --env VDF_BENCH_SECONDS \
	$(sed -n 's/^# vm-run: //p' tests/bench/nvme_bench.sh) tests/bench/nvme_bench.sh >&2
python3 tools/bench_table.py "$rundir/vm" | tee build/bench-nvme.md
