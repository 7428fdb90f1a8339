#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=256M --mem 512
#
# The NVMe driver against QEMU's emulated nvme device, bound to vfio-pci:
# identify, 64 MiB of random data at random LBAs read back identical, flush,
# write-zeroes/discard read back as zeros, bad requests refused while the
# driver keeps serving, MSI-X used, no IOMMU faults. Then the Linux kernel's
# own nvme driver reads back what VDF wrote.
set -u
cd "$(dirname "$0")/../.."
NVME=build/bin/vdf-nvme
addr=${VDF_NVME_VFIO%% *}
fails=0
pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

out=$($NVME --pci "$addr" identify 2>&1)
echo "$out"
bs=$(echo "$out" | sed -n 's/^namespace 1: [0-9]* blocks x \([0-9]*\) bytes.*/\1/p')
if echo "$out" | grep -q 'model: *QEMU NVMe Ctrl' && echo "$out" | grep -q 'serial: *[^ ]' &&
	echo "$out" | grep -q '^namespace 1: .* = 256 MiB'; then
	pass "identify (model, serial, capacity)"
else
	fail "identify"
fi

# The self-test prints its own PASS/FAIL lines.
$NVME --pci "$addr" --mib 64 --seed "${VDF_SEED:-$RANDOM}" selftest || fails=$((fails + 1))

# Bytes written by VDF, read by Linux's nvme driver from the same device.
head -c $((4096 * 64)) /dev/urandom >/tmp/pattern
if $NVME --pci "$addr" --lba 1000 write </tmp/pattern &&
	$NVME --pci "$addr" --lba 1000 --count $((64 * 4096 / ${bs:-512})) read >/tmp/readback &&
	cmp -s /tmp/pattern /tmp/readback; then
	pass "write/read through vdf-nvme read/write commands"
else
	fail "write/read through vdf-nvme read/write commands"
fi

if dmesg | grep -i 'DMAR.*fault' >/tmp/faults; then
	fail "IOMMU faults in the kernel log: $(head -3 /tmp/faults)"
else
	pass "no IOMMU faults"
fi

# Hand the device to the kernel driver and read the same blocks there.
echo "$addr" >/sys/bus/pci/devices/$addr/driver/unbind
echo nvme >/sys/bus/pci/devices/$addr/driver_override
modprobe nvme 2>/dev/null
echo "$addr" >/sys/bus/pci/drivers_probe
dev=
for i in $(seq 1 50); do
	dev=$(ls /sys/bus/pci/devices/$addr/nvme/*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n1$')
	[ -n "$dev" ] && [ -b /dev/$dev ] && break
	sleep 0.2
done
if [ -n "$dev" ] && [ "$(cat /sys/block/$dev/queue/logical_block_size)" = "$bs" ] &&
	dd if=/dev/$dev of=/tmp/kread bs="$bs" skip=1000 count=$((64 * 4096 / bs)) iflag=direct status=none &&
	cmp -s /tmp/pattern /tmp/kread; then
	pass "kernel nvme driver reads back what VDF wrote (/dev/$dev)"
else
	fail "kernel nvme driver read-back (dev='$dev')"
fi
exit $((fails > 0))
