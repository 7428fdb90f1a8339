#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio --nvme vfio
#
# Capability grants and the driver sandbox, with real devices in the guest.
# Drivers are started the way the device manager starts them (through
# build/bin/vdf-grant-launch: own VFIO container, grant over a socketpair,
# own uid, namespaces, empty root, rlimits, seccomp):
#   1. the rogue driver (tests/drivers/vdf-rogue.c) on the first controller
#      tries every forbidden action: each must be refused (its PASS lines), the
#      file/socket/exec/ptrace calls by seccomp (EPERM), and its stray DMA must
#      show up as an IOMMU (DMAR) fault for that device in the kernel log;
#   2. the real NVMe driver, granted and sandboxed, passes its self-test on
#      the second controller (a sandboxed driver serves I/O);
#   3. the NVMe driver in `serve` mode on the first controller, after the
#      rogue was revoked: up, answers PING, answers a CHECK of blocks 0-63
#      with the right checksum (the blocks are zeros: nothing wrote them),
#      obeys STOP;
#   4. no IOMMU faults from the well-behaved drivers, and a device without an
#      IOMMU group is refused.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
read -r dev1 dev2 _ <<<"${VDF_NVME_VFIO:-}"
fails=0
pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

if [ -z "${dev1:-}" ] || [ -z "${dev2:-}" ]; then
	fail "need two vfio NVMe controllers (vm/run --nvme vfio --nvme vfio)"
	exit 1
fi
short1=${dev1#0000:}
short2=${dev2#0000:}

# Kernel log lines for IOMMU faults of one device ("Request device [00:04.0] fault ...").
dmar_faults() { dmesg | grep -i 'DMAR.*fault' | grep -F "$1"; }

echo "== rogue driver on $dev1 =="
$B/vdf-grant-launch --pci "$dev1" --instance 1 --bars 0x1 --dma-window 1M --irqs msix,req \
	--max-vectors 4 --timeout 60 -- $B/vdf-rogue --grant-fd 3 --other "$dev2" >/tmp/rogue.out 2>&1
rc=$?
cat /tmp/rogue.out
if [ "$rc" -eq 0 ] && ! grep -q '^FAIL' /tmp/rogue.out && grep -q 'rogue: .* 0 not refused' /tmp/rogue.out; then
	pass "rogue driver: every forbidden action refused"
else
	fail "rogue driver (launcher exit status $rc)"
fi
# Refused by the seccomp filter, not only by the empty root.
for action in 'open("/etc/passwd")' 'socket(AF_INET)' 'socket(AF_UNIX)' 'execve("/bin/true")' \
	'ptrace(PTRACE_TRACEME)'; do
	if grep -qF "PASS: $action refused (EPERM)" /tmp/rogue.out; then
		pass "seccomp: $action -> EPERM"
	else
		fail "seccomp: $action not refused with EPERM"
	fi
done
if grep -q "^rogue: .*uid 61001" /tmp/rogue.out; then
	pass "rogue ran as its own unprivileged uid 61001"
else
	fail "rogue did not run as uid 61001"
fi
# The fault is reported asynchronously: give the kernel a moment.
faults=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	faults=$(dmar_faults "$short1")
	[ -n "$faults" ] && break
	sleep 0.2
done
if [ -n "$faults" ]; then
	pass "stray DMA blocked by the IOMMU: $(echo "$faults" | head -1 | sed 's/^\[[^]]*\] //')"
else
	fail "no DMAR fault for $short1 in the kernel log"
	dmesg | grep -i dmar | tail -5
fi

echo "== sandboxed vdf-nvme selftest on $dev2 =="
$B/vdf-grant-launch --pci "$dev2" --instance 2 --dma-window 64M --irqs msix,req \
	--max-vectors 16 --timeout 120 -- $B/vdf-nvme --grant-fd 3 --mib 8 --seed "${VDF_SEED:-$RANDOM}" \
	selftest >/tmp/nvme.out 2>&1
rc=$?
cat /tmp/nvme.out
if [ "$rc" -eq 0 ] && grep -q '^PASS' /tmp/nvme.out && ! grep -q '^FAIL' /tmp/nvme.out; then
	pass "granted, sandboxed NVMe driver serves I/O (selftest)"
else
	fail "sandboxed NVMe selftest (launcher exit status $rc)"
fi

echo "== vdf-nvme serve on $dev1 (after the rogue was revoked) =="
$B/vdf-grant-launch --pci "$dev1" --instance 3 --dma-window 64M --irqs msix,req \
	--heartbeat-ms 200 --serve-check --timeout 60 -- $B/vdf-nvme --grant-fd 3 serve \
	>/tmp/serve.out 2>&1
rc=$?
cat /tmp/serve.out
if [ "$rc" -eq 0 ]; then
	pass "$dev1 works again after the rogue: serve, heartbeats, PING, CHECK, STOP"
else
	fail "serve on $dev1 (launcher exit status $rc)"
fi
# FNV-1a 64 of 64 zero blocks of 512 bytes, as vdf_grant_checksum computes it.
want=$(python3 -c 'h = 0xcbf29ce484222325
for b in bytes(64 * 512):
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("0x%016x" % h)')
got=$(sed -n 's/^launch: check lba=0 nblocks=64: status 0 checksum \(0x[0-9a-f]*\)$/\1/p' /tmp/serve.out)
if [ -n "$got" ] && [ "$got" = "$want" ]; then
	pass "CHECK checksum of blocks 0-63 matches ($got)"
else
	fail "CHECK checksum '$got', want $want"
fi

echo "== checks =="
if [ -z "$(dmar_faults "$short2")" ]; then
	pass "no IOMMU faults from the NVMe driver on $short2"
else
	fail "IOMMU faults for $short2: $(dmar_faults "$short2" | head -2)"
fi
# A device with no IOMMU group (here: one that does not exist) is refused.
if $B/vdf-grant-launch --pci 0000:00:1f.7 -- $B/vdf-rogue --grant-fd 3 >/tmp/noiommu.out 2>&1; then
	fail "launcher granted a device without an IOMMU group"
else
	if grep -q 'no IOMMU' /tmp/noiommu.out; then
		pass "no IOMMU group: grant refused"
	else
		fail "no-IOMMU refusal without a clear message: $(head -2 /tmp/noiommu.out)"
	fi
fi
exit $((fails > 0))
