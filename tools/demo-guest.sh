#!/bin/bash
# SPDX-License-Identifier: MIT
# The guest side of `make demo`: what VDF sees and does on emulated hardware.
set -eu
cd "$(dirname "$0")/.."
NVME=build/bin/vdf-nvme
addr=${VDF_NVME_VFIO%% *}

echo "== PCI devices in the guest and their IOMMU groups"
for d in /sys/bus/pci/devices/*; do
	drv=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null || true)
	grp=$(basename "$(readlink "$d/iommu_group" 2>/dev/null)" 2>/dev/null || true)
	printf '  %s  %s:%s  class %s  group %-3s driver %s\n' "$(basename "$d")" \
		"$(cut -c3- "$d/vendor")" "$(cut -c3- "$d/device")" "$(cut -c3-8 "$d/class")" \
		"${grp:--}" "${drv:-none}"
done
echo
echo "== VDF NVMe driver on $addr (vfio-pci, its own IOMMU domain)"
$NVME --pci "$addr" identify 2>/dev/null
echo
echo "== Short I/O run"
$NVME --pci "$addr" --rw write --bs 131072 --qd 8 --seconds 2 --span 128 perf 2>/dev/null
$NVME --pci "$addr" --rw read --bs 131072 --qd 8 --seconds 2 --span 128 perf 2>/dev/null
$NVME --pci "$addr" --rw randread --bs 4096 --qd 32 --seconds 2 --span 128 perf 2>/dev/null
echo
echo "== Data integrity: 16 MiB random data at random LBAs, read back"
$NVME --pci "$addr" --mib 16 selftest 2>/dev/null | grep -E '^(PASS|FAIL)'

echo
echo "== The device manager: vdfd starts the NVMe driver sandboxed, with a capability grant"
sock=/tmp/vdfd.sock
ctl() { timeout 20 build/bin/vdfctl --socket "$sock" "$@"; }
state() { ctl --json stats "$addr" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin)["drivers"][0]; print(d["state"], d["restarts"], d["pid"])' 2>/dev/null; }
build/bin/vdfd --socket "$sock" 2>/tmp/vdfd.log &
vdfd=$!
for _ in $(seq 100); do [ "$(state | cut -d' ' -f1)" = running ] && break; sleep 0.1; done
ctl list
echo
echo "-- vdfctl check: the sandboxed driver reads 1 MiB and answers its checksum"
ctl check "$addr" --count 2048
pid=$(state | cut -d' ' -f3)
echo
echo "-- kill -9 $pid (the driver process)"
kill -9 "$pid"
for _ in $(seq 100); do set -- $(state); [ "${1:-}" = running ] && [ "${2:-0}" -ge 1 ] && break; sleep 0.1; done
ctl stats "$addr"
ctl --json stats "$addr" | python3 -c 'import json,sys; d=json.load(sys.stdin)["drivers"][0]; print("recovered in %.0f ms, now pid %d (generation %d)" % (d["last_recovery_ms"], d["pid"], d["generation"]))'
ctl check "$addr" --count 2048

if [ -n "${VDF_DISPLAY_VFIO:-}" ]; then
	echo
	echo "== The display: vdfd runs the bochs-display driver too; vdf-display draws on it"
	build/bin/vdf-display --vdf "$VDF_DISPLAY_VFIO" --socket "$sock" --interval-ms 500 \
		>/tmp/display.out 2>/tmp/display.err &
	disp=$!
	for _ in $(seq 300); do [ "$(grep -c '^frame ' /tmp/display.out)" -ge 3 ] && break; sleep 0.1; done
	tail -1 /tmp/display.out
	if python3 tests/vm/lib/hostqmp.py screendump demo-screen.png png >/tmp/qmp.out 2>&1 ||
		{ python3 tests/vm/lib/hostqmp.py screendump demo-screen.ppm ppm >/tmp/qmp.out 2>&1 &&
			python3 tests/vm/lib/ppm2png.py "$VDF_HOST_OUT/demo-screen.ppm" \
				"$VDF_HOST_OUT/demo-screen.png"; }; then
		echo "screenshot saved (the host prints where)"
	else
		echo "screenshot failed: $(cat /tmp/qmp.out)"
	fi
	kill "$disp" 2>/dev/null
	wait "$disp" 2>/dev/null || true
fi
kill -TERM $vdfd
wait $vdfd
echo
echo "-- vdfd's log"
grep -v '^vdfd: info: [0-9]* PCI' /tmp/vdfd.log | grep -E 'vdfd|ctl' | head -20
