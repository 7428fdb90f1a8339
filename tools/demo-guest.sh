#!/bin/bash
# SPDX-License-Identifier: MIT
# The guest side of `make demo`: what VDF sees and does on emulated hardware.
set -eu
cd "$(dirname "$0")/.."
NVME=build/bin/vdf-nvme
addr=${VDF_NVME_VFIO%% *}

echo "== PCI devices in the guest and their IOMMU groups"
for d in /sys/bus/pci/devices/*; do
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null || true)
	grp=$(basename "$(readlink "$d/iommu_group" 2>/dev/null)" 2>/dev/null || true)
	printf '  %s  %s:%s  class %s  group %-3s driver %s\n' "$(basename "$d")" \
		"$(cut -c3- "$d/vendor")" "$(cut -c3- "$d/device")" "$(cut -c3-8 "$d/class")" \
		"${grp:--}" "${drv:-none}"
done
echo
echo "== VDF NVMe driver on $addr (vfio-pci, its own IOMMU domain)"
$NVME --pci "$addr" identify 2>/dev/null
echo
echo "== Short I/O run"
$NVME --pci "$addr" --rw write --bs 131072 --qd 8 --seconds 2 --span 128 perf 2>/dev/null
$NVME --pci "$addr" --rw read --bs 131072 --qd 8 --seconds 2 --span 128 perf 2>/dev/null
$NVME --pci "$addr" --rw randread --bs 4096 --qd 32 --seconds 2 --span 128 perf 2>/dev/null
echo
echo "== Data integrity: 16 MiB random data at random LBAs, read back"
$NVME --pci "$addr" --mib 16 selftest 2>/dev/null | grep -E '^(PASS|FAIL)'
