#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --display vfio --qmp --timeout 900
#
# The display class end to end: vdfd runs the bochs-display driver sandboxed
# (drivers/bochs/bochs.manifest), the demo client vdf-display opens a display
# session through vdfd and draws the test pattern with a live text panel.
# Checked on the screen (QMP screendump from the guest): the pattern at
# 1024x768; a second client is refused (one owner); the driver killed with
# SIGKILL 3 times: vdfd restarts it, the client reconnects, and the screen
# shows the mode and the pattern again with the new generation in the panel
# (its pixels differ from before the kill); vdfctl stats counts the presents.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=$VDF_DISPLAY_VFIO
out=$VDF_HOST_OUT
sock=/tmp/vdfd.sock
kills=3
. tests/vm/lib/vdfd.sh

cleanup() {
	[ -n "${client:-}" ] && kill "$client" 2>/dev/null
	[ -n "${vdfd:-}" ] && kill "$vdfd" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

n=0
shot() { # shot NAME: screendump to $out/NAME.ppm
	python3 tests/vm/lib/hostqmp.py screendump "$1.ppm" ppm >/tmp/qmp.out 2>&1 ||
		{ echo "screendump failed: $(cat /tmp/qmp.out)"; return 1; }
}
# panel_sum FILE: a checksum of the text panel's pixels (rows H/3+12..2H/3-8)
panel_sum() {
	python3 - "$1" <<'EOF'
import hashlib, sys
sys.path.insert(0, 'tests/vm/lib')
from ppmcheck import read_ppm
w, h, pix = read_ppm(sys.argv[1])
print(hashlib.sha256(pix[3 * w * (h // 3 + 12):3 * w * (2 * h // 3 - 8)]).hexdigest()[:16])
EOF
}
frames() { grep -c '^frame ' /tmp/display.out; }

echo "== bochs-display $addr under vdfd"
start_vdfd_crashtest bochs || exit 1
$B/vdf-display --vdf "$addr" --socket "$sock" --interval-ms 500 >/tmp/display.out \
	2>/tmp/display.err &
client=$!
wait_for 60 sh -c "[ \$(grep -c '^frame ' /tmp/display.out) -ge 2 ]" &&
	pass "vdf-display is drawing: $(tail -1 /tmp/display.out)" ||
	fail "vdf-display did not draw: $(tail -5 /tmp/display.err)"

shot before && r=$(python3 tests/vm/lib/ppmcheck.py "$out/before.ppm" pattern 1024 768 XRGB8888) &&
	pass "on screen: $r" || fail "screen before the kills: $r"
sum0=$(panel_sum "$out/before.ppm")

# one owner at a time
if $B/vdf-display --vdf "$addr" --socket "$sock" --frames 1 >/tmp/second.out 2>&1; then
	fail "a second client was let in"
elif grep -q 'busy' /tmp/second.out; then
	pass "a second client is refused: $(head -1 /tmp/second.out)"
else
	fail "second client: $(cat /tmp/second.out)"
fi

restarts0=$(ctl --json stats "$addr" | field "['drivers'][0]['restarts']")
for i in $(seq $kills); do
	gen0=$(ctl --json stats "$addr" | field "['drivers'][0]['generation']")
	pid=$(driver_pid)
	kill -9 "$pid" 2>/dev/null && echo "kill -9 driver pid $pid (generation $gen0)"
	# wait for a frame drawn by a session with the next generation
	if wait_for 60 sh -c "tail -1 /tmp/display.out | grep -q 'generation $((gen0 + 1)) '"; then
		pass "kill $i: the client reconnected: $(tail -1 /tmp/display.out)"
	else
		fail "kill $i: no frame from generation $((gen0 + 1)): $(tail -2 /tmp/display.out) $(tail -3 /tmp/display.err)"
	fi
	f0=$(frames)
	wait_for 20 sh -c "[ \$(grep -c '^frame ' /tmp/display.out) -gt $f0 ]"
	shot "after$i" && r=$(python3 tests/vm/lib/ppmcheck.py "$out/after$i.ppm" pattern 1024 768 XRGB8888) &&
		pass "kill $i: mode and pattern back on screen: $r" || fail "kill $i: screen: $r"
	sum=$(panel_sum "$out/after$i.ppm")
	[ "$sum" != "$sum0" ] && pass "kill $i: the panel was redrawn ($sum0 -> $sum)" ||
		fail "kill $i: the panel did not change"
	sum0=$sum
done
restarts=$(ctl --json stats "$addr" | field "['drivers'][0]['restarts']")
[ $((restarts - restarts0)) -ge $kills ] && pass "vdfd counted $((restarts - restarts0)) restarts" ||
	fail "restarts $restarts0 -> $restarts"
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null
client=
sleep 2.5 # a heartbeat carries the counters
stats=$(ctl --json stats "$addr")
tx=$(echo "$stats" | field "['drivers'][0]['tx_ios']")
[ "${tx:-0}" -gt 0 ] && pass "vdfctl stats: $tx presents counted" || fail "stats: $stats"
ctl stats

if dmesg | grep -qi 'DMAR.*fault'; then
	fail "IOMMU faults: $(dmesg | grep -iE 'DMAR' | tail -3)"
else
	pass "no IOMMU faults"
fi
[ $fails = 0 ]
