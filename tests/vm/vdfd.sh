#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nvme vfio,size=64M --mem 512
#
# The device manager end to end: vdfd finds the NVMe controller, starts the
# NVMe driver from its manifest in the sandbox, and the driver serves reads
# (a checksum of data written beforehand); `kill -9` of the driver is followed
# by revoke, reset and restart, and it serves again; malformed manifests and
# control messages are refused while vdfd keeps running; a driver that dies at
# every start ends in the failed state after its backoff. `vdfctl open` brokers block client
# sessions, is refused clearly, and waits across a crash or a restart for the next generation.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=${VDF_NVME_VFIO%% *}
sock=/tmp/vdfd.sock
. tests/vm/lib/vdfd.sh

# Known data on the device, written stand-alone before the manager starts.
head -c 1048576 /dev/urandom >/tmp/data
$B/vdf-nvme --pci "$addr" --lba 0 write </tmp/data 2>/dev/null || fail "writing test data"
want=$(python3 -c '
import sys
h = 0xcbf29ce484222325
for b in open("/tmp/data", "rb").read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("%016x" % h)')

mkdir -p /tmp/manifests
cp drivers/nvme/nvme.manifest /tmp/manifests/
printf '{ "name": "broken", "version": 1 }\n' >/tmp/manifests/broken.manifest
$B/vdfd --manifests /tmp/manifests --bindir "$PWD/$B" --socket "$sock" 2>/tmp/vdfd.log &
vdfd=$!

if wait_for 30 state_is running; then
	pass "vdfd started the nvme driver on $addr"
else
	fail "nvme driver not running: $(tail -5 /tmp/vdfd.log)"
fi
ctl list
grep -q 'broken.manifest' /tmp/vdfd.log && pass "malformed manifest reported: $(grep -m1 broken.manifest /tmp/vdfd.log)" ||
	fail "malformed manifest not reported"
ctl explain "$addr"

got=$(ctl --json check "$addr" --lba 0 --count 2048 | field "['checksum']")
[ "$got" = "$want" ] && pass "driver serves reads (checksum $got)" || fail "checksum '$got' != '$want'"

# Block clients: `vdfctl open` has vdfd broker a session with the driver.
out=$(ctl open "$addr" 2>&1)
echo "$out" | grep -q "^opened $addr: driver nvme instance [0-9]* generation [0-9]*, client_id 1 (rw, unit 0)" &&
	pass "vdfctl open: $out" || fail "vdfctl open: $out"
wait_for 5 grep -q 'client 1 (uid 0, rw, unit 0) -> nvme generation' /tmp/vdfd.log &&
	pass "the driver was sent the session (CLIENT)" || fail "no CLIENT sent: $(tail -3 /tmp/vdfd.log)"
[ "$(ctl --json open "$addr" --ro | field "['mode']")" = ro ] && pass "vdfctl open --ro" || fail "open --ro"
[ "$(ctl --json stats "$addr" | field "['drivers'][0]['clients_opened']")" = 2 ] &&
	pass "sessions counted in stats" || fail "clients_opened: $(ctl --json stats "$addr")"
out=$(ctl open 0000:00:1f.7 2>&1)
[ $? = 1 ] && echo "$out" | grep -q 'no VDF driver is bound to it' && pass "open of an unmanaged device refused: $out" ||
	fail "open of an unmanaged device: $out"
out=$(ctl open "$addr" --unit 1024 2>&1)
[ $? = 2 ] && pass "open --unit out of range is a usage error" || fail "open --unit 1024: $out"

# Malformed control messages: the daemon answers errors and keeps serving.
python3 - "$sock" <<'PY'
import socket, struct, sys
msgs = [b"garbage", b"VDFC" + struct.pack("<HHI", 99, 0, 2) + b"{}",
        b"VDFC" + struct.pack("<HHI", 1, 0, 1000) + b"{}", b"VDFC" + struct.pack("<HHI", 1, 0, 5) + b"{nop}",
        b"VDFC" + struct.pack("<HHI", 1, 0, 17) + b'{"cmd": "reboot"}']
for m in msgs:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1]); s.send(m); s.settimeout(5)
    try:
        print("reply:", s.recv(4096)[12:200].decode(errors="replace"))
    except Exception as e:
        print("no reply:", e)
    s.close()
PY
ctl list >/dev/null && kill -0 $vdfd && pass "vdfd survives malformed control messages" ||
	fail "vdfd after malformed control messages"

# kill -9 the driver: revoke, reset, restart; it serves again.
pid=$(ctl --json stats "$addr" | field "['drivers'][0]['pid']")
kill -9 "$pid"
if wait_for 30 sh -c "[ \$(timeout 20 $B/vdfctl --socket $sock --json stats $addr | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"drivers\"][0]; print(d[\"restarts\"] >= 1 and d[\"state\"] == \"running\")') = True ]"; then
	ms=$(ctl --json stats "$addr" | field "['drivers'][0]['last_recovery_ms']")
	pass "driver restarted after kill -9 (recovered in $ms ms)"
else
	fail "no restart after kill -9: $(tail -5 /tmp/vdfd.log)"
fi
got=$(ctl --json check "$addr" --lba 0 --count 2048 | field "['checksum']")
[ "$got" = "$want" ] && pass "restarted driver serves reads" || fail "after restart: checksum '$got'"
ctl stats "$addr"

# A hung driver (stopped, so no heartbeats): killed as hung, then restarted.
pid=$(ctl --json stats "$addr" | field "['drivers'][0]['pid']")
kill -STOP "$pid"
if wait_for 30 sh -c "[ \$(timeout 20 $B/vdfctl --socket $sock --json stats $addr | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"drivers\"][0]; print(d[\"restarts\"] >= 2 and d[\"state\"] == \"running\" and d[\"history\"][-1][\"reason\"] == \"hung\")') = True ]"; then
	pass "hung driver detected by missed heartbeats and restarted"
else
	fail "hung driver not restarted: $(tail -3 /tmp/vdfd.log)"
fi
grep -q 'revoked: bus mastering off, device reset' /tmp/vdfd.log && pass "device revoked and reset on each failure" ||
	fail "no revocation logged"
got=$(ctl --json check "$addr" --lba 0 --count 2048 | field "['checksum']")
[ "$got" = "$want" ] && pass "driver serves reads after the hang" || fail "after the hang: checksum '$got'"

# A client reconnecting after a crash: open right after kill -9 waits for the restarted
# driver, and the session is brokered only after the old one was revoked.
gen() { ctl --json stats "$addr" | field "['drivers'][0]['generation']"; }
g0=$(gen)
pid=$(ctl --json stats "$addr" | field "['drivers'][0]['pid']")
kill -9 "$pid"
g1=$(ctl --json open "$addr" | field "['generation']")
if [ -n "$g1" ] && [ "$g1" -gt "$g0" ]; then
	pass "open during a crash waited for the restart (generation $g0 -> $g1)"
else
	fail "open during a crash: generation '$g1' after $g0: $(tail -5 /tmp/vdfd.log)"
fi
python3 - "$g0" "$g1" <<'PY' && pass "session brokered after the revocation" || fail "session before the revocation"
import re, sys
g0, g = sys.argv[1], sys.argv[2]
lines = open("/tmp/vdfd.log").read().splitlines()
last = lambda pat, end: max((i for i, l in enumerate(lines[:end]) if re.search(pat, l)), default=-1)
client = last(r"client \d+ .* generation %s$" % g, len(lines))
started = last(r"started nvme .*generation %s\)" % g, client)
before = last(r"started nvme .*generation %s\)" % g0, started)
revoked = last(r"revoked:", started)
killed = last(r"killed by signal 9", started)
ready = last(r"nvme running", client)
# the old process was gone and revoked before the new one started, and the
# session went to the new one once it served
sys.exit(0 if 0 <= before < min(revoked, killed) and started < ready < client else 1)
PY
ctl restart "$addr" >/dev/null
g2=$(ctl --json open "$addr" | field "['generation']")
[ -n "$g2" ] && [ "$g2" = $((g1 + 1)) ] && pass "open during vdfctl restart waited (generation $g2)" ||
	fail "open during restart: generation '$g2' after $g1"
wait_for 15 state_is running

# Operator commands: stop, start, restart, unbind, bind, info, log-level.
g0=$(gen)
ctl stop "$addr" && wait_for 15 state_is stopped && pass "vdfctl stop" || fail "vdfctl stop"
out=$(ctl open "$addr" 2>&1)
echo "$out" | grep -q 'nvme driver is stopped' && pass "open of a stopped driver refused: $out" ||
	fail "open of a stopped driver: $out"
ctl start "$addr" && wait_for 15 state_is running && pass "vdfctl start" || fail "vdfctl start"
ctl restart "$addr" && wait_for 15 sh -c "[ \$($B/vdfctl --socket $sock --json stats $addr | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"drivers\"][0]; print(d[\"state\"] == \"running\" and d[\"generation\"] == $g0 + 2)') = True ]" &&
	pass "vdfctl restart (generation $g0 -> $(gen))" || fail "vdfctl restart"
ctl unbind "$addr" && ! ctl stats "$addr" >/dev/null 2>&1 && pass "vdfctl unbind" || fail "vdfctl unbind"
ctl bind "$addr" && wait_for 15 state_is running && pass "vdfctl bind" || fail "vdfctl bind"
got=$(ctl --json check "$addr" --lba 0 --count 2048 | field "['checksum']")
[ "$got" = "$want" ] && pass "serves reads after unbind + bind" || fail "after rebind: checksum '$got'"
ctl --json info "$addr" | field "['driver']['uid']" | grep -q '^610[0-9][0-9]$' && pass "driver runs as its own uid" ||
	fail "driver uid"
ctl log-level debug | grep -q debug && ctl log-level info >/dev/null && pass "vdfctl log-level" || fail "log-level"
ctl stats nonexistent 2>&1 | grep -q 'not a device\|no VDF driver' && pass "unknown device refused clearly" ||
	fail "unknown device"

grep -q 'did not become ready' /tmp/vdfd.log && fail "a healthy driver was killed as not ready" ||
	pass "no healthy driver was killed"

kill -TERM $vdfd
wait $vdfd && pass "vdfd exits cleanly on SIGTERM" || fail "vdfd exit status $?"

# A driver that dies at every start: backoff, then failed; the manager stays up.
$B/vdfd --manifests tests/vm/manifests-crashy --bindir "$PWD/$B" --socket "$sock" 2>/tmp/vdfd2.log &
vdfd=$!
if wait_for 30 state_is failed; then
	pass "crash-looping driver marked failed: $(grep -m1 'marked failed' /tmp/vdfd2.log)"
else
	fail "crash-looping driver not marked failed"
fi
ctl list >/dev/null && pass "vdfd still serving after the crash loop" || fail "vdfd gone"
out=$(ctl open "$addr" 2>&1)
echo "$out" | grep -q 'crashy driver failed' && pass "open of a failed driver refused: $out" ||
	fail "open of a failed driver: $out"
kill -TERM $vdfd
wait $vdfd

echo "--- vdfd log"
cat /tmp/vdfd.log
exit $((fails > 0))
