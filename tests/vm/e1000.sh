#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nic e1000,vfio --nic e1000,kernel --nic e1000e,vfio,hub=1 --nic e1000e,kernel,hub=1 --timeout 240
#
# The e1000 driver against QEMU's e1000 (82540EM, INTx) and e1000e (82574L,
# MSI-X) devices. Each model has two NICs on one QEMU hub: one bound to
# vfio-pci and driven by vdf-e1000, the other driven by the Linux kernel's
# e1000/e1000e driver. Checked per model: the MAC address read from the
# EEPROM is QEMU's mac=, link up; frames sent by VDF arrive at the kernel's
# interface (AF_PACKET) complete and in number, more than the ring holds;
# frames the kernel sends arrive in vdf-e1000's rxtest with intact payloads;
# hardware counters move; an oversized frame is refused with a clear error;
# no IOMMU faults.
set -u
cd "$(dirname "$0")/../.."
E1000=build/bin/vdf-e1000
fails=0
pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# AF_PACKET helper on the kernel side: send or receive test frames
# (EtherType 0x88b5, "VDFT", 32-bit sequence, bytes (seq + i) & 0xff).
cat >/tmp/vdfpkt.py <<'EOF'
import json, socket, struct, sys, time
ETH = 0x88b5
def mac(s): return bytes(int(x, 16) for x in s.split(':'))
def frame(dst, src, seq, size):
    hdr = dst + src + struct.pack('!H', ETH) + b'VDFT' + struct.pack('!I', seq)
    return hdr + bytes((seq + i) & 0xff for i in range(len(hdr), size))
cmd, ifn = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH))
s.bind((ifn, ETH))
if cmd == 'send':
    dst, count, size = mac(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    src = s.getsockname()[4][:6]
    for seq in range(count):
        s.send(frame(dst, src, seq, size))
        if seq % 16 == 15:
            time.sleep(0.004)
    print(json.dumps({'sent': count}))
else:
    src, count, secs, ready = mac(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    s.settimeout(0.2)
    open(ready, 'w').close()
    got, bad, dup, seen, nbytes = 0, 0, 0, set(), 0
    end = time.time() + secs
    while got < count and time.time() < end:
        try:
            f = s.recv(4096)
        except socket.timeout:
            continue
        if f[6:12] != src:
            continue
        seq = struct.unpack('!I', f[18:22])[0]
        if f[14:18] != b'VDFT' or f != frame(f[0:6], src, seq, len(f)):
            bad += 1
        elif seq in seen:
            dup += 1
        else:
            seen.add(seq); got += 1; nbytes += len(f)
    print(json.dumps({'received': got, 'bad_payload': bad, 'duplicates': dup, 'bytes': nbytes}))
EOF

jget() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }
mac_of() { for am in $VDF_NIC_MACS; do [ "${am%%=*}" = "$1" ] && echo "${am#*=}"; done; }

read -r -a vfio <<<"$VDF_NIC_VFIO"
read -r -a kern <<<"$VDF_NIC_KERNEL"
read -r -a kif <<<"$VDF_NIC_KERNEL_IF"
models=(e1000 e1000e)
irqs=(INTx MSI-X)

for i in 0 1; do
	m=${models[$i]} a=${vfio[$i]} ifn=${kif[$i]}
	vmac=$(mac_of "$a") kmac=$(mac_of "${kern[$i]}")
	echo "== $m: VDF $a ($vmac), kernel $ifn ${kern[$i]} ($kmac)"

	info=$($E1000 --pci "$a" info 2>/tmp/info.err)
	echo "$info"
	if [ "$(jget "$info" mac)" = "$vmac" ] && [ "$(jget "$info" mac_source)" = eeprom ]; then
		pass "$m: MAC from the EEPROM is QEMU's mac= ($vmac)"
	else
		fail "$m: MAC '$(jget "$info" mac)' from $(jget "$info" mac_source), want $vmac"
		cat /tmp/info.err
	fi
	if [ "$(jget "$info" link)" = up ] && [ "$(jget "$info" speed_mbps)" = 1000 ]; then
		pass "$m: link up at 1000 Mb/s"
	else
		fail "$m: link $(jget "$info" link)"
	fi
	if [ "$(jget "$info" irq)" = "${irqs[$i]}" ]; then
		pass "$m: interrupts by ${irqs[$i]}"
	else
		fail "$m: interrupts '$(jget "$info" irq)', want ${irqs[$i]}"
	fi

	for t in $(seq 100); do [ "$(cat /sys/class/net/"$ifn"/carrier 2>/dev/null)" = 1 ] && break; sleep 0.1; done

	# VDF -> kernel: 1000 full-size frames (four times the ring), then 300 minimal ones.
	for spec in "1000 1514" "300 60"; do
		set -- $spec
		rm -f /tmp/ready
		python3 /tmp/vdfpkt.py recv "$ifn" "$vmac" "$1" 40 /tmp/ready >/tmp/krx.json &
		kpid=$!
		for t in $(seq 100); do [ -e /tmp/ready ] && break; sleep 0.05; done
		tx=$($E1000 --pci "$a" --dst "$kmac" --batch 32 --pace-us 3000 txtest "$1" "$2" 2>/tmp/tx.err)
		txrc=$?
		wait "$kpid"
		krx=$(cat /tmp/krx.json)
		echo "vdf txtest: $tx"
		echo "kernel rx:  $krx"
		if [ "$txrc" = 0 ] && [ "$(jget "$tx" completed)" = "$1" ] &&
			[ "$(jget "$krx" received)" = "$1" ] && [ "$(jget "$krx" bad_payload)" = 0 ] &&
			[ "$(jget "$krx" duplicates)" = 0 ]; then
			pass "$m: VDF sent $1 frames of $2 bytes, the kernel received all, payloads intact"
		else
			fail "$m: VDF -> kernel, $1 x $2 bytes"
			cat /tmp/tx.err
		fi
		if [ "$(jget "$tx" hw_tx_good)" -ge "$1" ] 2>/dev/null; then
			pass "$m: hardware TX counter (GPTC) counted $(jget "$tx" hw_tx_good) frames"
		else
			fail "$m: hardware TX counter $(jget "$tx" hw_tx_good)"
		fi
	done

	# kernel -> VDF: 1000 frames of 1000 bytes into rxtest.
	rm -f /tmp/rx.err
	# A ring larger than the burst: under TCG the INTx path can fall behind, and
	# QEMU's e1000 drops what it queued while the ring was empty (docs/NET.md).
	$E1000 --pci "$a" --ring 1024 rxtest 1000 40 >/tmp/rx.json 2>/tmp/rx.err &
	vpid=$!
	for t in $(seq 200); do grep -q 'rxtest: ready' /tmp/rx.err 2>/dev/null && break; sleep 0.05; done
	ktx=$(python3 /tmp/vdfpkt.py send "$ifn" "$vmac" 1000 1000)
	wait "$vpid"
	rxrc=$?
	rx=$(cat /tmp/rx.json)
	echo "kernel tx:  $ktx (interface: tx_packets $(cat /sys/class/net/"$ifn"/statistics/tx_packets), tx_dropped $(cat /sys/class/net/"$ifn"/statistics/tx_dropped))"
	echo "vdf rxtest: $rx"
	if [ "$rxrc" = 0 ] && [ "$(jget "$rx" received)" = 1000 ] &&
		[ "$(jget "$rx" bad_payload)" = 0 ] && [ "$(jget "$rx" duplicates)" = 0 ]; then
		pass "$m: the kernel sent 1000 frames, VDF received all, payloads intact"
	else
		fail "$m: kernel -> VDF"
		cat /tmp/rx.err
	fi
	if [ "$(jget "$rx" hw_rx_good)" -ge 1000 ] 2>/dev/null && [ "$(jget "$rx" pool_double_puts)" = 0 ]; then
		pass "$m: hardware RX counter (GPRC) counted $(jget "$rx" hw_rx_good), no buffer returned twice"
	else
		fail "$m: RX counters: $rx"
	fi

	# An oversized frame is refused before it reaches the device.
	out=$($E1000 --pci "$a" txtest 1 2000 2>&1)
	if [ $? != 0 ] && echo "$out" | grep -q 'refused: Message too long'; then
		pass "$m: oversized frame (2000 bytes) refused with EMSGSIZE"
	else
		fail "$m: oversized frame: $out"
	fi
done

if dmesg | grep -i 'DMAR.*fault' >/tmp/faults; then
	fail "IOMMU faults in the kernel log: $(head -3 /tmp/faults)"
else
	pass "no IOMMU faults"
fi
echo "e1000: $fails failures"
[ "$fails" = 0 ]
