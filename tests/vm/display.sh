#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --display vfio --qmp --timeout 600
#
# The bochs-display driver (drivers/bochs, vdf-bochs) on QEMU's bochs-display
# through VFIO, checked on the screen itself: QEMU's screendump (asked for
# over QMP from the guest, tests/vm/lib/hostqmp.py) saves what the display
# shows, and tests/vm/lib/ppmcheck.py compares pixels at known coordinates
# with the test pattern of vdf/fbdraw.h. Checked: DISPI ID, VRAM size and the
# device's EDID; the mode list; the pattern at 1024x768 XRGB8888 and at
# 800x600 RGB565; invalid modes (beyond VRAM, zero size, unsupported depths,
# nonsense) refused with a reason while the mode and picture on screen stay;
# page flips paced by wait_vblank (one vblank per present); a full-screen
# fill; no IOMMU faults.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=$VDF_DISPLAY_VFIO
out=$VDF_HOST_OUT
. tests/vm/lib/vdfd.sh

bochs() { timeout 60 $B/vdf-bochs --pci "$addr" "$@"; }
n=0
# shot W H CHECK...: screendump to a new PPM, then ppmcheck FILE CHECK W H ...
shot() {
	local w=$1 h=$2 what=$3 name
	shift 3
	n=$((n + 1))
	name=display-$n.ppm
	if ! python3 tests/vm/lib/hostqmp.py screendump "$name" ppm >/tmp/qmp.out 2>&1; then
		echo "screendump failed: $(cat /tmp/qmp.out)"
		return 1
	fi
	python3 tests/vm/lib/ppmcheck.py "$out/$name" "$what" "$w" "$h" "$@"
}

echo "== bochs-display at $addr"
info=$(bochs --json info) && echo "$info" || fail "vdf-bochs info: $info"
id=$(echo "$info" | field "['dispi_id']")
vram=$(echo "$info" | field "['vram_bytes']")
[ "$id" = $((0xb0c5)) ] && [ "$vram" = $((16 << 20)) ] &&
	pass "DISPI ID 0xb0c5, 16 MiB VRAM" || fail "DISPI ID $id, VRAM $vram"
[ "$(echo "$info" | field "['edid']")" = True ] &&
	[ -n "$(echo "$info" | field "['name']")" ] &&
	[ "$(echo "$info" | field "['width_mm']")" -gt 0 ] &&
	pass "EDID: $(echo "$info" | field "['vendor']") \"$(echo "$info" | field "['name']")\", $(echo "$info" | field "['width_mm']")x$(echo "$info" | field "['height_mm']") mm" ||
	fail "EDID not read: $info"

modes=$(bochs modes)
echo "$modes" | grep -q '^1024x768 XRGB8888' && echo "$modes" | grep -q '^800x600 RGB565' &&
	! echo "$modes" | grep -q '^3840x2160 XRGB8888' &&
	pass "mode list: $(echo "$modes" | wc -l) modes, 1024x768 and 800x600 in both formats, none beyond VRAM" ||
	fail "mode list: $modes"

# --- the test pattern in two modes, checked on the screen ---
bochs pattern 1024x768 >/tmp/p1 2>&1 || fail "pattern 1024x768: $(cat /tmp/p1)"
r=$(shot 1024 768 pattern XRGB8888) && pass "1024x768 XRGB8888 on screen: $r" ||
	fail "1024x768 XRGB8888 screen: $r"
bochs pattern 800x600xRGB565 >/tmp/p2 2>&1 || fail "pattern 800x600 RGB565: $(cat /tmp/p2)"
r=$(shot 800 600 pattern RGB565) && pass "800x600 RGB565 on screen: $r" ||
	fail "800x600 RGB565 screen: $r"

# --- invalid modes: refused with a reason, the mode and the picture stay ---
for bad in 4096x4096:VRAM 0x0:zero 1024x768x24:supported 1024x768x8:supported \
	1024x768x15:supported 32x32:outside 99999x1:outside 1024x:bad 1024x768xYUV:bad; do
	m=${bad%%:*} want=${bad#*:}
	if bochs set-mode "$m" >/tmp/bad.out 2>&1; then
		fail "mode $m was accepted"
	elif grep -q "$want" /tmp/bad.out; then
		pass "mode $m refused: $(grep -m1 '^vdf-bochs:' /tmp/bad.out)"
	else
		fail "mode $m refused without saying why ('$want'): $(cat /tmp/bad.out)"
	fi
done
cur=$(bochs --json info)
[ "$(echo "$cur" | field "['width']")x$(echo "$cur" | field "['height']") $(echo "$cur" | field "['format']")" = "800x600 RGB565" ] &&
	pass "the mode stayed 800x600 RGB565" || fail "mode after refusals: $cur"
r=$(shot 800 600 pattern RGB565) && pass "the picture stayed: $r" || fail "picture after refusals: $r"

# --- page flips paced by wait_vblank ---
f=$(bochs flip 30) && echo "flip: $f" || fail "flip: $f"
[ "$(echo "$f" | field "['vblanks']")" = 30 ] &&
	pass "30 presents, one vblank each (${f})" || fail "flip: $f"

# --- one colour over the whole screen, through the other page ---
bochs set-mode 1024x768xRGB565 >/dev/null 2>&1 && bochs fill 00c0ff >/tmp/fill 2>&1 ||
	fail "fill: $(cat /tmp/fill)"
r=$(shot 1024 768 color 00c0ff RGB565) && pass "fill 00c0ff at 1024x768 RGB565: $r" ||
	fail "fill: $r"

if dmesg | grep -qi 'DMAR.*fault'; then
	fail "IOMMU faults: $(dmesg | grep -iE 'DMAR' | tail -3)"
else
	pass "no IOMMU faults"
fi
[ $fails = 0 ]
