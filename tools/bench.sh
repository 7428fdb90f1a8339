#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: run the benchmark scenarios in the guest and print Markdown
# tables of VDF against the Linux kernel driver measured in the same boot.
# VDF_BENCH selects them: "nvme net" (default), "nvme" or "net"; each boots
# its own guest. A guest run that failed part-way still gets its table (rows
# that could not be measured are left out); the exit status is then nonzero.
set -euo pipefail
cd "$(dirname "$0")/.."
rundir=$(mktemp -d /tmp/vdf-bench.XXXXXX)
trap 'rm -rf "$rundir"' EXIT
rc=0

# scenario NAME SCRIPT RESULT_GLOB DESCRIPTION: boot, run, tabulate into build/bench-NAME.md
scenario() {
	local name=$1 script=$2 glob=$3 r=0
	echo "bench: $4 (same guest boot)..." >&2
	vm/run --rundir "$rundir/$name" --timeout 3600 --env VDF_BENCH_SECONDS \
		--env VDF_NET_BENCH_SECONDS $(sed -n 's/^# vm-run: //p' "$script") "$script" >&2 || r=$?
	if ls "$rundir/$name"/$glob >/dev/null 2>&1; then
		python3 tools/bench_table.py "$rundir/$name" "$name" | tee "build/bench-$name.md"
	else
		echo "bench: the $name guest run left no results (exit $r)" >&2
		[ $r -ne 0 ] || r=1
	fi
	[ $r -eq 0 ] || { echo "bench: $name guest run exited $r (see the messages above)" >&2; rc=$r; }
}

for b in ${VDF_BENCH:-nvme net}; do
	case $b in
	nvme) scenario nvme tests/bench/nvme_bench.sh 'bench-kernel-qd*.json' \
		"NVMe 4 KiB random read, VDF (stand-alone, client library, ublk, nbd) vs Linux nvme" ;;
	net) scenario net tests/bench/net_bench.sh 'net-*.json' \
		"e1000/e1000e packets/s and TCP, VDF + vdf-tap vs Linux e1000/e1000e" ;;
	*) echo "bench: unknown VDF_BENCH entry '$b' (want nvme, net)" >&2; exit 2 ;;
	esac
done
exit $rc
