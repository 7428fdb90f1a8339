#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=512M --mem 1536 --modprobe nbd --modprobe ublk_drv --timeout 900
#
# The VDF NVMe driver as an ordinary Linux block device, through the block
# service client library: vdf-nbd --vdf (kernel nbd-client -> /dev/nbd0) and
# vdf-ublk --vdf (/dev/ublkb0). For each: mkfs.ext4, mount, copy files of
# random data while the NVMe driver is killed with SIGKILL at random
# intervals ($VDF_EXPORT_KILLS times, default 20), sync, remount, every sha256
# matches, fsck clean, and the kernel logged no I/O error.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=${VDF_NVME_VFIO%% *}
sock=/tmp/vdfd.sock
kills=${VDF_EXPORT_KILLS:-20}
W=/tmp/export
. tests/vm/lib/vdfd.sh

mkdir -p $W/mnt
start_vdfd_crashtest

# Files of random data, 4 MiB each.
mkdir -p $W/files
for i in $(seq 1 24); do head -c $((4 << 20)) /dev/urandom >$W/files/f$i; done
(cd $W/files && sha256sum f*) >$W/sums

# kill_loop N: kill the driver N times at random intervals; prints the count.
kill_loop() {
	local n=0
	while [ $n -lt "$1" ]; do
		wait_for 30 state_is running || break
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
		kill -9 "$(driver_pid)" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}

# fs_workload LABEL DEV: the filesystem round trip with the kill loop.
fs_workload() {
	local label=$1 dev=$2 m=$W/mnt round=0 killer n errs
	dmesg -C
	if ! mkfs.ext4 -q -F "$dev" >$W/mkfs.log 2>&1 || ! mount "$dev" $m; then
		fail "$label: mkfs/mount: $(tail -3 $W/mkfs.log)"
		return
	fi
	kill_loop "$kills" >$W/kills &
	killer=$!
	# Copy rounds of 64 MiB until the kills are done, into 4 slots in turn
	# (the filesystem holds 4 rounds); each slot remembers its last round.
	local -a slot_round=()
	while :; do
		round=$((round + 1))
		local sl=$((round % 4))
		rm -rf $m/s$sl && mkdir -p $m/s$sl || break
		for i in $(seq 1 16); do
			cp $W/files/f$(((round + i) % 24 + 1)) $m/s$sl/f$i || break 2
		done
		slot_round[$sl]=$round
		sync
		kill -0 $killer 2>/dev/null || break
	done
	wait $killer
	n=$(cat $W/kills)
	[ "$n" -ge "$kills" ] && pass "$label: driver killed $n times during the copy ($round rounds of 64 MiB)" ||
		fail "$label: only ${n:-0} kills"
	sync
	umount $m && mount "$dev" $m || fail "$label: remount"
	errs=0
	local files=0
	for sl in "${!slot_round[@]}"; do
		r=${slot_round[$sl]}
		for i in $(seq 1 16); do
			f=f$(((r + i) % 24 + 1))
			want=$(grep " $f\$" $W/sums | cut -d' ' -f1)
			got=$(sha256sum $m/s$sl/f$i 2>/dev/null | cut -d' ' -f1)
			files=$((files + 1))
			[ "$want" = "$got" ] || { errs=$((errs + 1)) && echo "mismatch round $r f$i"; }
		done
	done
	[ $errs -eq 0 ] && [ $files -ge 16 ] &&
		pass "$label: $files files ($((files * 4)) MiB) sha256 match after remount" ||
		fail "$label: $errs checksum mismatches in $files files"
	umount $m || fail "$label: umount"
	fsck.ext4 -fn "$dev" >$W/fsck.log 2>&1 && pass "$label: fsck clean" ||
		fail "$label: fsck: $(tail -3 $W/fsck.log)"
	if dmesg | grep -Ei 'I/O error|blk_update_request|Buffer I/O' >$W/ioerr; then
		fail "$label: kernel saw I/O errors: $(head -3 $W/ioerr)"
	else
		pass "$label: no I/O error in the kernel log"
	fi
}

# --- NBD ---
$B/vdf-nbd --vdf "$addr" --socket "$sock" --unix /tmp/nbd.sock 2>/tmp/nbd.log &
nbd=$!
if wait_for 30 test -S /tmp/nbd.sock && nbd-client -unix /tmp/nbd.sock /dev/nbd0 -b 4096 -t 120 \
	>/tmp/nbdc.log 2>&1; then
	pass "nbd-client attached /dev/nbd0 ($(blockdev --getsize64 /dev/nbd0) bytes) to vdf-nbd --vdf"
	# What the driver holds, as NBD clients see it.
	head -c $((8 << 20)) /dev/urandom >$W/raw8
	$B/vdf-blk --socket "$sock" "$addr" write 0 16384 <$W/raw8 || fail "vdf-blk write"
	out=$(timeout 30 nbdinfo "nbd+unix:///?socket=/tmp/nbd.sock" 2>&1)
	if grep -q 'export-size: 536870912' <<<"$out" && grep -q 'can_flush: true' <<<"$out" &&
		grep -q 'can_trim: true' <<<"$out" && grep -q 'is_read_only: false' <<<"$out"; then
		pass "nbdinfo: size 512M, flush/trim, read-write"
	else
		fail "nbdinfo: $out"
	fi
	if timeout 120 qemu-img convert --image-opts \
		"driver=raw,size=$((8 << 20)),file.driver=nbd,file.server.type=unix,file.server.path=/tmp/nbd.sock" \
		-O raw $W/conv 2>$W/qi.log && cmp -s $W/raw8 $W/conv; then
		pass "qemu-img convert from the export equals the data written through the client library"
	else
		fail "qemu-img convert: $(tail -2 $W/qi.log)"
	fi
	fs_workload nbd /dev/nbd0
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
else
	fail "nbd attach: $(cat /tmp/nbdc.log; tail -3 /tmp/nbd.log)"
fi
kill -TERM $nbd 2>/dev/null
wait $nbd

# --- ublk ---
$B/vdf-ublk --vdf "$addr" --socket "$sock" --queues 2 >/tmp/ublk.out 2>/tmp/ublk.log &
ublk=$!
if wait_for 30 grep -q /dev/ublkb /tmp/ublk.out; then
	dev=$(grep -o '/dev/ublkb[0-9]*' /tmp/ublk.out | head -1)
	pass "vdf-ublk --vdf exports $dev ($(blockdev --getsize64 "$dev") bytes)"
	fs_workload ublk "$dev"
else
	fail "vdf-ublk did not start: $(tail -3 /tmp/ublk.log)"
fi
kill -TERM $ublk 2>/dev/null
wait $ublk

kill -TERM $vdfd
wait $vdfd
# Logs for a post-mortem, in the run directory on the host.
[ -n "${VDF_HOST_OUT:-}" ] && cp /tmp/vdfd.log /tmp/nbd.log /tmp/ublk.log "$VDF_HOST_OUT"/ 2>/dev/null
[ $fails -eq 0 ] && exit 0 || exit 1
