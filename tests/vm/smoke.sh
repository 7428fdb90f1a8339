#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio --nvme kernel
#
# tests/vm/smoke.sh - guest harness smoke test. Run it with
#   vm/run --nvme vfio --nvme kernel tests/vm/smoke.sh
# Prints the kernel release and every PCI device with its IOMMU group, then
# checks that each VDF_NVME_VFIO device is bound to vfio-pci with its
# /dev/vfio/<group> node, and that each VDF_NVME_KERNEL device has its block
# node. Exits 0 only if all of that holds.
set -euo pipefail

[ "${VDF_GUEST:-0}" = 1 ] || { echo "smoke: run me in the guest: vm/run ... $0" >&2; exit 2; }

fails=0
bad() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

echo "kernel: $(uname -r)"
echo "PCI devices (address vendor:device class driver iommu-group):"
# Builtins only in this loop: every exec costs tens of ms under emulation.
link_name() {
	local t
	t=$(readlink "$1" 2>/dev/null) || t=-
	echo "${t##*/}"
}
for d in /sys/bus/pci/devices/*; do
	vendor=$(<"$d/vendor") device=$(<"$d/device") class=$(<"$d/class")
	printf '  %s %s:%s %s %-10s group %s\n' "${d##*/}" "${vendor#0x}" "${device#0x}" \
		"${class#0x}" "$(link_name "$d/driver")" "$(link_name "$d/iommu_group")"
done

[ -e /dev/vfio/vfio ] || bad "/dev/vfio/vfio missing"
[ -n "${VDF_NVME_VFIO:-}${VDF_NVME_KERNEL:-}" ] || bad "no NVMe devices given (use --nvme)"

for a in ${VDF_NVME_VFIO:-}; do
	d=/sys/bus/pci/devices/$a
	if [ ! -e "$d/iommu_group" ]; then
		bad "$a: no IOMMU group"
		continue
	fi
	grp=$(basename "$(readlink "$d/iommu_group")")
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null || echo none)")
	[ "$drv" = vfio-pci ] || bad "$a: bound to '$drv', want vfio-pci"
	if [ -c "/dev/vfio/$grp" ]; then
		echo "ok: $a vfio-pci /dev/vfio/$grp"
	else
		bad "$a: /dev/vfio/$grp missing"
	fi
done

read -r -a kdevs <<<"${VDF_NVME_KERNEL_DEV:-}"
i=0
for a in ${VDF_NVME_KERNEL:-}; do
	dev=${kdevs[$i]:-}
	i=$((i + 1))
	drv=$(basename "$(readlink "/sys/bus/pci/devices/$a/driver" 2>/dev/null || echo none)")
	[ "$drv" = nvme ] || bad "$a: bound to '$drv', want nvme"
	if [ -n "$dev" ] && [ -b "$dev" ]; then
		echo "ok: $a nvme $dev ($(($(blockdev --getsize64 "$dev") / 1048576)) MiB)"
	else
		bad "$a: block node '${dev}' missing"
	fi
done

if [ "$fails" -ne 0 ]; then
	echo "smoke: $fails check(s) failed"
	exit 1
fi
echo "smoke: all checks passed"
