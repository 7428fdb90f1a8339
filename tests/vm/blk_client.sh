#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=256M --mem 1024
#
# The block service through the client library (vdf/client.h, tool vdf-blk):
# vdfd brokers a session with the NVMe driver; data written through the
# shared rings reads back; bad requests get clear errors; then a workload
# writing blocks stamped with their LBA and a sequence number runs while the
# driver is killed with SIGKILL at random intervals (20 times): the
# application sees no error and every acknowledged write reads back.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=${VDF_NVME_VFIO%% *}
sock=/tmp/vdfd.sock
kills=${VDF_BLK_KILLS:-20}
. tests/vm/lib/vdfd.sh
blk() { timeout 120 $B/vdf-blk --socket "$sock" "$@"; }

start_vdfd_crashtest

# --- basic I/O through the rings ---
info=$(blk "$addr" info)
echo "$info"
echo "$info" | grep -q '^model: QEMU NVMe Ctrl' && pass "client session: identify through the driver" ||
	fail "vdf-blk info: $info"
head -c $((4 << 20)) /dev/urandom >/tmp/data
blk "$addr" write 2048 8192 </tmp/data && blk "$addr" read 2048 8192 >/tmp/back &&
	cmp -s /tmp/data /tmp/back && pass "4 MiB written and read back through the client rings" ||
	fail "client write/read-back mismatch"
a=$(blk "$addr" checksum 2048 2048)
b=$(ctl --json check "$addr" --lba 2048 --count 2048 | field "['checksum']")
[ -n "$a" ] && [ "$a" = "$b" ] && pass "client data = driver's own read (checksum $a)" ||
	fail "checksum via client '$a' != via vdfctl check '$b'"

# --- bad requests: clear errors, the driver keeps serving ---
out=$(blk "$addr" read 524287 2 2>&1 >/dev/null) && fail "read past the end accepted" ||
	{ echo "$out" | grep -q 'Numerical result out of range' &&
		pass "read past the end refused: $out" || fail "read past end: $out"; }
out=$(head -c 512 /dev/zero | blk --ro "$addr" write 0 1 2>&1) && fail "write on a read-only open accepted" ||
	{ echo "$out" | grep -q 'Read-only file system' &&
		pass "write on a read-only session refused: $out" || fail "ro write: $out"; }
out=$(blk "$addr" read 0 1 2>&1 >/dev/null) && pass "driver still serves after refused requests" ||
	fail "driver stopped serving: $out"
out=$(blk 0000:00:1f.7 info 2>&1) && fail "open of an unknown device accepted" ||
	pass "open of an unknown device refused: $out"

# --- stamped writes while the driver is killed $kills times ---
before=$(ctl --json stats "$addr" | field "['drivers'][0]['generation']" 2>/dev/null || echo 0)
timeout 900 $B/vdf-blk --socket "$sock" --qd 16 "$addr" stamp 600 16384 >/tmp/stamp.out 2>/tmp/stamp.err &
stamp=$!
sleep 3
done_kills=0
while [ $done_kills -lt "$kills" ] && kill -0 $stamp 2>/dev/null; do
	if wait_for 30 state_is running; then
		pid=$(driver_pid)
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 "$pid" 2>/dev/null && done_kills=$((done_kills + 1))
		sleep "$((RANDOM % 2)).$((RANDOM % 10))"
	else
		fail "driver not running again after kill $done_kills: $(tail -3 /tmp/vdfd.log)"
		break
	fi
done
wait_for 30 state_is running
sleep 2
kill -INT $stamp 2>/dev/null # ends the write phase; the final verification follows
wait $stamp
rc=$?
cat /tmp/stamp.out
tail -5 /tmp/stamp.err
[ "$done_kills" -ge "$kills" ] && pass "driver killed $done_kills times during the workload" ||
	fail "only $done_kills kills"
if [ $rc -eq 0 ] && grep -q ' 0 errors, 0 mismatches' /tmp/stamp.out; then
	pass "stamped workload: no I/O error, every acknowledged write read back"
else
	fail "stamped workload failed (exit $rc)"
fi
rec=$(sed -n 's/.* \([0-9]*\) reconnects.*/\1/p' /tmp/stamp.out)
[ "${rec:-0}" -ge $((kills / 2)) ] && pass "client reconnected $rec times" ||
	fail "client reconnected only ${rec:-0} times"

kill -TERM $vdfd
wait $vdfd
[ $fails -eq 0 ] && exit 0 || exit 1
