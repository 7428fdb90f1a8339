# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# vm/guest/setup.sh - sourced by the generated job script in the guest chroot,
# before the scenario starts; its output goes to the serial log.
#
# In:  VDF_NVME_VFIO    PCI addresses to bind to vfio-pci
#      VDF_NVME_KERNEL  PCI addresses to leave to the kernel nvme driver
#      VDF_MODPROBE     extra modules to load (space-separated)
# Out: VDF_NVME_KERNEL_DEV  the namespace block node of each VDF_NVME_KERNEL
#                           device, same order (e.g. /dev/nvme0n1)
# Returns non-zero if the devices are not ready.

vdf_setup_fail() {
	echo "vdf-setup: $*" >&2
	return 1
}

# Bind one PCI device to vfio-pci: driver_override, unbind, drivers_probe.
vdf_bind_vfio() {
	local a=$1 d=/sys/bus/pci/devices/$1 cur
	[ -d "$d" ] || vdf_setup_fail "no PCI device $a" || return
	echo vfio-pci >"$d/driver_override" || return
	if [ -e "$d/driver" ]; then
		cur=$(basename "$(readlink "$d/driver")")
		[ "$cur" = vfio-pci ] && return 0
		echo "$a" >"$d/driver/unbind" || return
	fi
	echo "$a" >/sys/bus/pci/drivers_probe || return
	[ "$(basename "$(readlink "$d/driver" 2>/dev/null)")" = vfio-pci ] ||
		vdf_setup_fail "$a did not bind to vfio-pci"
}

# Wait (up to 30 s) for the first namespace of the kernel-driven NVMe
# controller at PCI address $1 and print its /dev node.
vdf_nvme_kernel_dev() {
	local a=$1 i ns
	for ((i = 0; i < 300; i++)); do
		for ns in /sys/bus/pci/devices/"$a"/nvme/nvme*/nvme*n1; do
			if [ -e "$ns" ] && [ -b "/dev/${ns##*/}" ]; then
				echo "/dev/${ns##*/}"
				return 0
			fi
		done
		sleep 0.1
	done
	vdf_setup_fail "no namespace appeared for NVMe controller $a"
}

vdf_setup() {
	local a m dev devs=()
	for a in ${VDF_NVME_VFIO:-}; do
		vdf_bind_vfio "$a" || return
		echo "vdf-setup: $a -> vfio-pci (group $(basename "$(readlink /sys/bus/pci/devices/"$a"/iommu_group)"))"
	done
	for m in ${VDF_MODPROBE:-}; do
		modprobe "$m" || vdf_setup_fail "modprobe $m failed" || return
	done
	if [ -n "${VDF_NVME_KERNEL:-}" ]; then
		modprobe nvme || vdf_setup_fail "modprobe nvme failed" || return
		for a in $VDF_NVME_KERNEL; do
			dev=$(vdf_nvme_kernel_dev "$a") || return
			echo "vdf-setup: $a -> nvme ($dev)"
			devs+=("$dev")
		done
	fi
	VDF_NVME_KERNEL_DEV=${devs[*]}
	export VDF_NVME_KERNEL_DEV
}
