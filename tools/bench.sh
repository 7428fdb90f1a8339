#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: run the benchmark scenarios in the guest and print a Markdown
# table of VDF against the Linux kernel driver measured in the same boot.
# A guest run that failed part-way still gets its table (rows that could not
# be measured are left out); the exit status is then the run's.
set -euo pipefail
cd "$(dirname "$0")/.."
rundir=$(mktemp -d /tmp/vdf-bench.XXXXXX)
trap 'rm -rf "$rundir"' EXIT
echo "bench: NVMe 4 KiB random read, VDF (stand-alone, client library, ublk, nbd) vs Linux nvme" \
	"driver (same guest boot)..." >&2
rc=0
vm/run --rundir "$rundir/vm" --timeout 1800 --env VDF_BENCH_SECONDS \
	$(sed -n 's/^# vm-run: //p' tests/bench/nvme_bench.sh) tests/bench/nvme_bench.sh >&2 || rc=$?
if ls "$rundir"/vm/bench-kernel-qd*.json >/dev/null 2>&1; then
	python3 tools/bench_table.py "$rundir/vm" | tee build/bench-nvme.md
else
	echo "bench: the guest run left no results (exit $rc)" >&2
	[ $rc -ne 0 ] || rc=1
fi
[ $rc -eq 0 ] || echo "bench: guest run exited $rc (see the messages above)" >&2
exit $rc
