#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-run: --modprobe ublk_drv --mem 1024 --smp 2 --nvme vfio,size=256M
#
# tests/vm/ublk.sh - vdf-ublk against the Linux ublk driver. Run it with
#   vm/run --modprobe ublk_drv --mem 1024 --smp 2 --nvme vfio,size=256M tests/vm/ublk.sh
# (it also runs on a host as root with ublk_drv loaded; it uses ids 0-5 and 7;
# part 7 needs an NVMe controller bound to vfio-pci, $VDF_NVME_VFIO).
#
# Checks:
#   1. --file on tmpfs, --queues 2: /dev/ublkb0 with the backend's geometry and
#      cache attributes; mkfs.ext4, mount, copy 64 MiB of random files, sha256
#      after umount/remount, fsck -n clean; both queues served requests.
#   2. DISCARD and WRITE_ZEROES (blkdiscard) read back as zeroes.
#   3. SIGTERM: the device is stopped and deleted, exit status 0.
#   4. User recovery, --queues 2: a rate-limited fio write+verify (or dd) on
#      /dev/ublkb1, kill -9 of vdf-ublk mid-way: the device stays and the
#      writer waits; vdf-ublk --recover 1 takes over; the writer finishes
#      without error and the data verifies.
#   5. --mem with 4096-byte blocks in the background (no --foreground): the
#      parent prints /dev/ublkb3 and exits; ext4 with 4 KiB blocks works.
#   6. Bad invocations are refused (recover a device that does not exist,
#      with a backend of the wrong size, or while its server is running).
#   7. --vdf: the NVMe driver under vdfd as the backend, through the client
#      library: ext4 round trip, fsck; the driver killed (-9) during a write
#      and vdf-ublk killed (-9) during a write then recovered: both writes
#      finish without error and read back.
# Prints PASS:/FAIL:/SKIP: lines; exits non-zero on any FAIL.
set -uo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." || exit 2
BIN=$PWD/build/bin/vdf-ublk
[ -x "$BIN" ] || { echo "FAIL: ublk build ($BIN missing: run make)"; exit 1; }

W=$(mktemp -d /tmp/ublk-test.XXXXXX)
fails=0
pids=()
pass() { echo "PASS: ublk $*"; }
fail() {
	echo "FAIL: ublk $*"
	fails=$((fails + 1))
}
skip() { echo "SKIP: ublk $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
cleanup() {
	mountpoint -q "$W/mnt" 2>/dev/null && umount "$W/mnt"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	skip "everything (needs root)"
	exit 0
fi
if ! [ -c /dev/ublk-control ] && ! modprobe ublk_drv 2>/dev/null; then
	skip "everything (no ublk_drv)"
	exit 0
fi
[ -c /dev/ublk-control ] || { echo "FAIL: ublk /dev/ublk-control missing"; exit 1; }

# start NAME ARGS...: run vdf-ublk --foreground in the background, wait for
# the device line on its stdout; sets $SRV_PID and $SRV_DEV.
start() {
	local name=$1
	shift
	"$BIN" --foreground "$@" >"$W/$name.out" 2>"$W/$name.log" &
	SRV_PID=$!
	pids+=("$SRV_PID")
	SRV_DEV=
	for _ in $(seq 150); do
		SRV_DEV=$(head -n 1 "$W/$name.out" 2>/dev/null)
		[ -n "$SRV_DEV" ] && [ -b "$SRV_DEV" ] && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/$name.log"
	return 1
}

# stop PID DEV: SIGTERM, then the nodes must go and the status be 0.
stop() {
	local pid=$1 dev=$2 rc
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] && ! [ -e "$dev" ] && ! [ -e "${dev/ublkb/ublkc}" ]
}

# --- 1. file backend, two queues, ext4 -----------------------------------------
truncate -s 256M "$W/disk0.img"
if start file0 --file "$W/disk0.img" --queues 2 -v && [ "$SRV_DEV" = /dev/ublkb0 ]; then
	Q=/sys/block/ublkb0/queue
	geo="$(blockdev --getsize64 /dev/ublkb0) $(cat $Q/logical_block_size) $(cat $Q/write_cache) fua=$(cat $Q/fua 2>/dev/null) $(cat $Q/max_sectors_kb)K"
	if [ "$geo" = "268435456 512 write back fua=1 512K" ] && [ "$(ls -d /sys/block/ublkb0/mq/* | wc -l)" -eq 2 ]; then
		pass "file backend /dev/ublkb0: 256 MiB, 512-byte blocks, write back + FUA, 512K max I/O, 2 hw queues"
	else
		fail "file backend geometry: $geo, $(ls /sys/block/ublkb0/mq)"
	fi
	mkdir -p "$W/mnt" "$W/files"
	names=()
	for i in 1 2 3 4; do
		head -c 16M /dev/urandom >"$W/files/f$i"
		names+=("f$i")
	done
	(cd "$W/files" && sha256sum "${names[@]}") >"$W/sums"
	# Writers on both CPUs, so that both queues see requests.
	if mkfs.ext4 -q -F /dev/ublkb0 >"$W/mkfs.log" 2>&1 && mount /dev/ublkb0 "$W/mnt" &&
		taskset -c 0 cp "$W/files/f1" "$W/files/f2" "$W/mnt/" &&
		taskset -c 1 cp "$W/files/f3" "$W/files/f4" "$W/mnt/" &&
		sync && umount "$W/mnt" && mount /dev/ublkb0 "$W/mnt" &&
		(cd "$W/mnt" && sha256sum -c --quiet "$W/sums") && umount "$W/mnt"; then
		pass "ext4 on /dev/ublkb0: mkfs, mount, copy 64 MiB, sha256 match after remount"
	else
		fail "ext4 round trip: $(tail -3 "$W/mkfs.log")"
		mountpoint -q "$W/mnt" && umount "$W/mnt"
	fi
	if fsck.ext4 -n -f /dev/ublkb0 >"$W/fsck.log" 2>&1; then
		pass "fsck.ext4 -n clean"
	else
		fail "fsck: $(tail -3 "$W/fsck.log")"
	fi
	rm -rf "$W/files"

	# --- 2. discard / write zeroes --------------------------------------------
	if have blkdiscard; then
		head -c 2M /dev/urandom | dd of=/dev/ublkb0 bs=1M seek=200 oflag=direct status=none
		head -c 2M /dev/zero >"$W/zero2m"
		if blkdiscard -f -o $((200 << 20)) -l $((1 << 20)) /dev/ublkb0 2>/dev/null &&
			blkdiscard -f -z -o $((201 << 20)) -l $((1 << 20)) /dev/ublkb0 2>/dev/null &&
			dd if=/dev/ublkb0 of="$W/back" bs=1M skip=200 count=2 iflag=direct status=none &&
			cmp -s "$W/back" "$W/zero2m"; then
			pass "DISCARD and WRITE_ZEROES read back as zeroes"
		else
			fail "discard/write zeroes"
		fi
	else
		skip "discard (no blkdiscard)"
	fi

	# --- 3. SIGTERM -------------------------------------------------------------
	if stop "$SRV_PID" /dev/ublkb0; then
		pass "SIGTERM: STOP_DEV + DEL_DEV, /dev/ublkb0 and /dev/ublkc0 gone, exit 0"
	else
		fail "SIGTERM: $(tail -3 "$W/file0.log")"
	fi
	q0=$(sed -n 's/.*ublk0 q0: debug: \([0-9]*\) requests.*/\1/p' "$W/file0.log")
	q1=$(sed -n 's/.*ublk0 q1: debug: \([0-9]*\) requests.*/\1/p' "$W/file0.log")
	if [ "${q0:-0}" -gt 0 ] && [ "${q1:-0}" -gt 0 ]; then
		pass "both queues served requests (q0 $q0, q1 $q1)"
	else
		fail "queue use: q0 ${q0:-?} q1 ${q1:-?}"
	fi
	errs=$(sed -n 's/.*served .*, \([0-9]*\) errors, \([0-9]*\) refused.*/\1 \2/p' "$W/file0.log")
	[ "$errs" = "0 0" ] || fail "I/O errors or refused requests: '$errs'"
else
	fail "start --file --queues 2 (got '${SRV_DEV:-}')"
fi

# --- 4. user recovery ---------------------------------------------------------
truncate -s 128M "$W/disk1.img"
if start rec1 --file "$W/disk1.img" --queues 2 --depth 32 --id 1 && [ "$SRV_DEV" = /dev/ublkb1 ]; then
	old=$SRV_PID
	if have fio; then
		# 48 MiB at 12 MiB/s: about 4 s of writing, then a read-back verify.
		fio --name=recovery --filename=/dev/ublkb1 --rw=write --bs=64k --size=48M \
			--direct=1 --ioengine=libaio --iodepth=8 --rate=12m --verify=crc32c \
			--do_verify=1 --verify_fatal=1 >"$W/fio.log" 2>&1 &
		writer=$!
		what="fio write+verify 48 MiB"
		verify=fio
	else
		head -c 96M /dev/urandom >"$W/src"
		dd if="$W/src" of=/dev/ublkb1 bs=64k oflag=direct conv=fsync status=none &
		writer=$!
		what="dd 96 MiB"
		verify=dd
	fi
	# Wait until the writer is under way, then kill the server outright.
	for _ in $(seq 100); do
		[ "$(awk '{print $5}' /sys/block/ublkb1/stat)" -gt 100 ] && break
		sleep 0.05
	done
	kill -9 "$old"
	wait "$old" 2>/dev/null
	sleep 1
	if [ -b /dev/ublkb1 ] && kill -0 "$writer" 2>/dev/null; then
		pass "kill -9 mid-write: /dev/ublkb1 stays, the writer waits"
	else
		fail "after kill -9: device $([ -b /dev/ublkb1 ] && echo present || echo gone), writer $(kill -0 "$writer" 2>/dev/null && echo waiting || echo finished)"
	fi
	t0=$(date +%s%N)
	if start rec2 --recover 1 --file "$W/disk1.img" -v && [ "$SRV_DEV" = /dev/ublkb1 ]; then
		pass "--recover 1: START/END_USER_RECOVERY in $((($(date +%s%N) - t0) / 1000000)) ms"
	else
		fail "--recover 1: $(tail -3 "$W/rec2.log")"
	fi
	if wait "$writer"; then
		if [ "$verify" = dd ]; then
			dd if=/dev/ublkb1 of="$W/back" bs=1M count=96 iflag=direct status=none
			cmp -s "$W/back" "$W/src" && ok=1 || ok=0
		else
			grep -q 'err= 0' "$W/fio.log" && ok=1 || ok=0
		fi
		if [ "$ok" = 1 ]; then
			pass "$what across the kill: finished without error, data verifies"
		else
			fail "$what: data mismatch ($(grep -i -e verify -e err "$W/fio.log" 2>/dev/null | tail -3))"
		fi
	else
		fail "$what failed across the kill: $(tail -5 "$W/fio.log" 2>/dev/null)"
	fi
	if stop "$SRV_PID" /dev/ublkb1; then
		pass "recovered server stops cleanly on SIGTERM"
	else
		fail "recovered server stop: $(tail -3 "$W/rec2.log")"
	fi
else
	fail "start --id 1 (got '${SRV_DEV:-}')"
fi

# --- 5. background mode, memory, 4 KiB blocks -----------------------------------
if out=$(timeout 60 "$BIN" --mem 96M --block-size 4096 --id 3 2>"$W/mem3.log") &&
	[ "$out" = /dev/ublkb3 ] && [ -b /dev/ublkb3 ]; then
	pid=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$W/mem3.log" | head -n 1)
	pids+=("$pid")
	if [ "$(cat /sys/block/ublkb3/queue/logical_block_size)" = 4096 ] &&
		[ "$(cat /sys/block/ublkb3/queue/write_cache)" = "write through" ] &&
		mkfs.ext4 -q -F -b 4096 /dev/ublkb3 >"$W/mkfs3.log" 2>&1 && mount /dev/ublkb3 "$W/mnt" &&
		head -c 8M /dev/urandom >"$W/m3" && cp "$W/m3" "$W/mnt/" && umount "$W/mnt" &&
		mount /dev/ublkb3 "$W/mnt" && cmp -s "$W/m3" "$W/mnt/m3" && umount "$W/mnt" &&
		fsck.ext4 -n -f /dev/ublkb3 >/dev/null 2>&1; then
		pass "background --mem 4096-byte blocks: /dev/ublkb3, write through, ext4 round trip"
	else
		fail "--mem 4096: $(tail -3 "$W/mkfs3.log")"
		mountpoint -q "$W/mnt" && umount "$W/mnt"
	fi
	kill -TERM "$pid"
	for _ in $(seq 100); do
		[ -e /dev/ublkb3 ] || break
		sleep 0.1
	done
	[ -e /dev/ublkb3 ] && fail "background server did not remove /dev/ublkb3" ||
		pass "background server removed /dev/ublkb3 on SIGTERM"
else
	fail "background start: '${out:-}' $(tail -3 "$W/mem3.log")"
fi

# --- 6. refusals ------------------------------------------------------------------
if ! timeout 30 "$BIN" --foreground --recover 9 --mem 16M >/dev/null 2>"$W/bad.log"; then
	pass "--recover of a device that does not exist refused"
else
	fail "--recover 9 succeeded"
fi
truncate -s 64M "$W/disk5.img"
if start five --file "$W/disk5.img" --id 5; then
	five=$SRV_PID
	if ! timeout 30 "$BIN" --foreground --recover 5 --mem 32M >/dev/null 2>"$W/bad5.log" &&
		grep -q 'not the same disk' "$W/bad5.log"; then
		pass "--recover with a backend of another size refused"
	else
		fail "--recover with the wrong size: $(tail -2 "$W/bad5.log")"
	fi
	if ! timeout 30 "$BIN" --foreground --recover 5 --file "$W/disk5.img" >/dev/null \
		2>"$W/live5.log" && grep -q 'which is running' "$W/live5.log" &&
		dd if=/dev/ublkb5 of=/dev/null bs=1M count=1 iflag=direct status=none; then
		pass "--recover of a device whose server runs refused; the device still serves"
	else
		fail "--recover of a live device: $(tail -2 "$W/live5.log")"
	fi
	stop "$five" /dev/ublkb5 || fail "stop ublkb5"
else
	fail "start --id 5"
fi

# --- 7. the VDF block service as the backend ----------------------------------------
addr=${VDF_NVME_VFIO:-}
addr=${addr%% *}
B=$PWD/build/bin
if [ -z "$addr" ] || ! [ -x "$B/vdfd" ] || ! [ -x "$B/vdfctl" ]; then
	skip "--vdf (needs vdfd, vdfctl and an NVMe controller on vfio-pci)"
else
	sock=$W/vdfd.sock
	ctl() { timeout 20 "$B/vdfctl" --socket "$sock" "$@"; }
	driver_pid() {
		ctl --json stats "$addr" | python3 -c 'import json,sys; d=json.load(sys.stdin)["drivers"][0]; print(d["pid"] if d["state"] == "running" else "")'
	}
	"$B/vdfd" --bindir "$B" --socket "$sock" 2>"$W/vdfd.log" &
	pids+=($!)
	for _ in $(seq 200); do
		[ -n "$(driver_pid 2>/dev/null)" ] && break
		sleep 0.1
	done
	if start vdf7 --vdf "$addr" --socket "$sock" --queues 2 --id 7 &&
		[ "$SRV_DEV" = /dev/ublkb7 ]; then
		pass "--vdf $addr: /dev/ublkb7, $(blockdev --getsize64 /dev/ublkb7) bytes, $(cat /sys/block/ublkb7/queue/write_cache)"
		head -c 32M /dev/urandom >"$W/v7"
		if mkfs.ext4 -q -F /dev/ublkb7 >"$W/mkfs7.log" 2>&1 && mount /dev/ublkb7 "$W/mnt" &&
			cp "$W/v7" "$W/mnt/" && umount "$W/mnt" && mount /dev/ublkb7 "$W/mnt" &&
			cmp -s "$W/v7" "$W/mnt/v7" && umount "$W/mnt" &&
			fsck.ext4 -n -f /dev/ublkb7 >"$W/fsck7.log" 2>&1; then
			pass "--vdf: ext4 round trip (32 MiB), fsck clean"
		else
			fail "--vdf ext4: $(tail -3 "$W/mkfs7.log" "$W/fsck7.log" 2>/dev/null)"
			mountpoint -q "$W/mnt" && umount "$W/mnt"
		fi
		# The NVMe driver dies mid-write; the client library reconnects and replays.
		dd if="$W/v7" of=/dev/ublkb7 bs=64k seek=2048 oflag=direct status=none &
		writer=$!
		sleep 0.3
		dpid=$(driver_pid)
		[ -n "$dpid" ] && kill -9 "$dpid"
		if wait "$writer" &&
			dd if=/dev/ublkb7 of="$W/back7" bs=64k skip=2048 count=512 iflag=direct status=none &&
			cmp -s "$W/v7" "$W/back7"; then
			pass "--vdf: NVMe driver (pid ${dpid:-?}) killed mid-write: no error, data reads back"
		else
			fail "--vdf: write across a driver kill"
		fi
		# vdf-ublk itself dies mid-write; a new one recovers the device.
		w0=$(awk '{print $5}' /sys/block/ublkb7/stat)
		dd if="$W/v7" of=/dev/ublkb7 bs=64k seek=3072 oflag=direct status=none &
		writer=$!
		for _ in $(seq 100); do
			[ "$(awk '{print $5}' /sys/block/ublkb7/stat)" -gt $((w0 + 50)) ] && break
			sleep 0.02
		done
		kill -9 "$SRV_PID"
		wait "$SRV_PID" 2>/dev/null
		sleep 0.5
		kill -0 "$writer" 2>/dev/null && waiting="the writer waited" ||
			waiting="the writer had finished before the kill"
		if start vdf7r --recover 7 --vdf "$addr" --socket "$sock" && wait "$writer" &&
			dd if=/dev/ublkb7 of="$W/back7" bs=64k skip=3072 count=512 iflag=direct status=none &&
			cmp -s "$W/v7" "$W/back7"; then
			pass "--vdf: vdf-ublk killed mid-write ($waiting) and recovered: no error, data reads back"
		else
			fail "--vdf: recovery: $(tail -3 "$W/vdf7r.log")"
		fi
		stop "$SRV_PID" /dev/ublkb7 && pass "--vdf: SIGTERM removes /dev/ublkb7" ||
			fail "--vdf: stop: $(tail -3 "$W/vdf7r.log")"
	else
		fail "--vdf start: $(tail -3 "$W/vdf7.log") $(tail -3 "$W/vdfd.log")"
	fi
fi

if dmesg | grep -q -e 'WARNING:' -e 'BUG:' -e 'Oops'; then
	fail "kernel warnings: $(dmesg | grep -e 'WARNING:' -e 'BUG:' -e 'Oops' | head -3)"
else
	pass "no kernel warnings"
fi
echo "ublk: $fails failure(s)"
exit $((fails > 0))
