#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=1G --nvme kernel,size=1G --mem 512
#
# 4 KiB random reads at QD1 and QD32 on two identical emulated NVMe
# controllers in one guest boot: one driven by VDF (vfio-pci), one by the
# Linux kernel's nvme driver (fio, io_uring, O_DIRECT). Results go to
# $VDF_HOST_OUT/bench-*.json for tools/bench.sh.
set -eu
cd "$(dirname "$0")/../.."
secs=${VDF_BENCH_SECONDS:-10}
vfio=${VDF_NVME_VFIO%% *}
kdev=${VDF_NVME_KERNEL_DEV%% *}
out=${VDF_HOST_OUT:-/tmp}

# Same state on both: the first 256 MiB written once, so reads hit written blocks.
head -c 256M /dev/zero | build/bin/vdf-nvme --pci "$vfio" --lba 0 write 2>/dev/null
dd if=/dev/zero of="$kdev" bs=1M count=256 oflag=direct status=none

for qd in 1 32; do
	for mode in interrupt polled; do
		flag=
		[ "$mode" = polled ] && flag=--polled
		build/bin/vdf-nvme --pci "$vfio" $flag --queues 1 --rw randread --bs 4096 --qd $qd \
			--seconds "$secs" --span 256 --json perf 2>/dev/null >"$out/bench-vdf-$mode-qd$qd.json"
		echo "vdf $mode qd$qd: $(cat "$out/bench-vdf-$mode-qd$qd.json")"
	done
	fio --name=kernel --filename="$kdev" --ioengine=io_uring --direct=1 --rw=randread \
		--bs=4k --iodepth=$qd --size=256M --runtime="$secs" --time_based \
		--output-format=json >"$out/bench-kernel-qd$qd.json"
	echo "kernel qd$qd: done"
done

# The bare transport under the block service, in the same boot.
for mode in polled eventfd; do
	build/bin/vdf-ringbench --mode $mode --count 20000 --json >"$out/bench-ring-$mode.json"
	echo "ring $mode: $(cat "$out/bench-ring-$mode.json")"
done
