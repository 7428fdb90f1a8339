#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=64M,ns=2,lbs=4096:512
#
# One NVMe controller with two namespaces of different LBA formats (4 KiB and
# 512 B): the driver finds both and each passes the data-integrity self-test.
set -u
cd "$(dirname "$0")/../.."
NVME=build/bin/vdf-nvme
addr=${VDF_NVME_VFIO%% *}
fails=0

out=$($NVME --pci "$addr" identify 2>/dev/null)
echo "$out"
if echo "$out" | grep -q '^namespace 1: 16384 blocks x 4096 bytes' &&
	echo "$out" | grep -q '^namespace 2: 131072 blocks x 512 bytes'; then
	echo "PASS: both namespaces found with their LBA formats"
else
	echo "FAIL: namespaces"
	fails=$((fails + 1))
fi
for ns in 1 2; do
	$NVME --pci "$addr" --nsid $ns --mib 16 selftest 2>/dev/null | grep -E '^(PASS|FAIL)' |
		sed "s/^\(PASS\|FAIL\): /\1: ns$ns /"
	[ "${PIPESTATUS[0]}" = 0 ] || fails=$((fails + 1))
done
exit $((fails > 0))
