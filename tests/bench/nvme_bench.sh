#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=1G --nvme kernel,size=1G --mem 1024 --modprobe nbd --modprobe ublk_drv
#
# 4 KiB random reads at QD1 and QD32 on two identical emulated NVMe
# controllers in one guest boot: one driven by VDF (vfio-pci), one by the
# Linux kernel's nvme driver (fio, io_uring, O_DIRECT). Then the bare ring
# round trip, and last the VDF block service on the VDF controller, with the
# NVMe driver under vdfd: through the client library (vdf-blk bench, eventfd
# and polled), through /dev/ublkb0 (vdf-ublk) and /dev/nbd0 (vdf-nbd +
# nbd-client), the two with the kernel rows' fio options. Results go to
# $VDF_HOST_OUT/bench-*.json for tools/bench.sh; a block-service row that
# cannot be measured is reported, left out, and makes the exit status 1.
set -eu
cd "$(dirname "$0")/../.."
B=build/bin
secs=${VDF_BENCH_SECONDS:-10}
vfio=${VDF_NVME_VFIO%% *}
kdev=${VDF_NVME_KERNEL_DEV%% *}
out=${VDF_HOST_OUT:-/tmp}
sock=/tmp/vdfd.sock
fails=0

# fio_randread NAME FILE QD: the kernel rows' workload, JSON on stdout.
fio_randread() {
	timeout $((secs + 120)) fio --name="$1" --filename="$2" --ioengine=io_uring --direct=1 \
		--rw=randread --bs=4k --iodepth="$3" --size=256M --runtime="$secs" --time_based \
		--output-format=json
}

# Same state on both: the first 256 MiB written once, so reads hit written blocks.
head -c 256M /dev/zero | $B/vdf-nvme --pci "$vfio" --lba 0 write 2>/dev/null
dd if=/dev/zero of="$kdev" bs=1M count=256 oflag=direct status=none

for qd in 1 32; do
	for mode in interrupt polled; do
		flag=
		[ "$mode" = polled ] && flag=--polled
		$B/vdf-nvme --pci "$vfio" $flag --queues 1 --rw randread --bs 4096 --qd $qd \
			--seconds "$secs" --span 256 --json perf 2>/dev/null >"$out/bench-vdf-$mode-qd$qd.json"
		echo "vdf $mode qd$qd: $(cat "$out/bench-vdf-$mode-qd$qd.json")"
	done
	fio_randread kernel "$kdev" $qd >"$out/bench-kernel-qd$qd.json"
	echo "kernel qd$qd: done"
done

# The bare transport under the block service, in the same boot.
for mode in polled eventfd; do
	$B/vdf-ringbench --mode $mode --count 20000 --json >"$out/bench-ring-$mode.json"
	echo "ring $mode: $(cat "$out/bench-ring-$mode.json")"
done

# --- The block service: the same controller, its driver now under vdfd ---
set +e
skip() { # skip FILE WHY: no row for this measurement
	rm -f "$1"
	echo "bench: no row $(basename "$1"): $2" >&2
	fails=$((fails + 1))
}
ctl() { timeout 20 $B/vdfctl --socket "$sock" "$@"; }
state() {
	ctl --json stats "$vfio" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["drivers"][0]["state"])' 2>/dev/null
}
wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds
	local t=$(($1 * 10))
	shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
running() { [ "$(state)" = running ]; }

$B/vdfd --manifests build/manifests --bindir "$PWD/$B" --socket "$sock" 2>/tmp/vdfd.log &
vdfd=$!
if wait_for 120 running; then
	echo "vdfd: nvme driver running on $vfio"
	for qd in 1 32; do
		for mode in eventfd polled; do
			f=$out/bench-client-$mode-qd$qd.json
			flag=
			[ "$mode" = polled ] && flag=--polled
			if timeout $((secs + 120)) $B/vdf-blk --socket "$sock" --qd $qd $flag --span 256 \
				--json "$vfio" bench "$secs" >"$f" 2>/tmp/blk.err; then
				echo "client $mode qd$qd: $(cat "$f")"
			else
				skip "$f" "vdf-blk: $(tail -2 /tmp/blk.err)"
			fi
		done
	done

	# /dev/ublkbN: one queue, one client session (eventfd mode).
	$B/vdf-ublk --vdf "$vfio" --socket "$sock" --queues 1 --foreground >/tmp/ublk.out 2>/tmp/ublk.log &
	ublk=$!
	if wait_for 60 grep -q /dev/ublkb /tmp/ublk.out; then
		dev=$(grep -o '/dev/ublkb[0-9]*' /tmp/ublk.out | head -1)
		echo "ublk: $dev ($(blockdev --getsize64 "$dev") bytes)"
		for qd in 1 32; do
			f=$out/bench-ublk-qd$qd.json
			fio_randread ublk "$dev" $qd >"$f" 2>/tmp/fio.err &&
				echo "ublk qd$qd: done" || skip "$f" "fio on $dev: $(tail -2 /tmp/fio.err)"
		done
	else
		skip "$out/bench-ublk-qd1.json" "vdf-ublk did not start: $(tail -3 /tmp/ublk.log)"
		skip "$out/bench-ublk-qd32.json" "(same)"
	fi
	kill -TERM $ublk 2>/dev/null
	wait $ublk

	# /dev/nbd0: vdf-nbd on a Unix socket, the kernel's nbd-client.
	rm -f /tmp/nbd.sock
	$B/vdf-nbd --vdf "$vfio" --socket "$sock" --unix /tmp/nbd.sock 2>/tmp/nbd.log &
	nbd=$!
	if wait_for 30 test -S /tmp/nbd.sock &&
		nbd-client -unix /tmp/nbd.sock /dev/nbd0 -b 4096 >/tmp/nbdc.log 2>&1; then
		echo "nbd: /dev/nbd0 ($(blockdev --getsize64 /dev/nbd0) bytes)"
		for qd in 1 32; do
			f=$out/bench-nbd-qd$qd.json
			fio_randread nbd /dev/nbd0 $qd >"$f" 2>/tmp/fio.err &&
				echo "nbd qd$qd: done" || skip "$f" "fio on /dev/nbd0: $(tail -2 /tmp/fio.err)"
		done
		nbd-client -d /dev/nbd0 >/dev/null 2>&1
	else
		skip "$out/bench-nbd-qd1.json" "nbd attach: $(tail -2 /tmp/nbdc.log) $(tail -2 /tmp/nbd.log)"
		skip "$out/bench-nbd-qd32.json" "(same)"
	fi
	kill -TERM $nbd 2>/dev/null
	wait $nbd
else
	for f in client-eventfd-qd1 client-polled-qd1 client-eventfd-qd32 client-polled-qd32 \
		ublk-qd1 ublk-qd32 nbd-qd1 nbd-qd32; do
		skip "$out/bench-$f.json" "driver not running under vdfd: $(tail -3 /tmp/vdfd.log)"
	done
fi
kill -TERM $vdfd
wait $vdfd
exit $((fails > 0))
