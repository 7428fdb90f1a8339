#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nic e1000,vfio --nic e1000,kernel --mem 1024 --timeout 900
#
# The TAP bridge (tools/tap/vdf-tap) over the e1000 driver running under
# vdfd. Two e1000 NICs on one QEMU hub: one driven by VDF (sandboxed, under
# vdfd), one by the Linux kernel's e1000 driver, moved into the network
# namespace "peer". vdf-tap opens a packet session through vdfd and creates
# vdfnet0 with the NIC's MAC. Checked: ping both ways; a 32 MiB HTTP download
# through the VDF driver with matching sha256; the same download while the
# driver is killed with SIGKILL at least 5 times: it completes without a
# connection reset, sha256 matches, vdf-tap reconnected after every kill and
# vdfd counted the restarts; no IOMMU faults.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=${VDF_NIC_VFIO%% *}
kif=${VDF_NIC_KERNEL_IF%% *}
sock=/tmp/vdfd.sock
kills=${VDF_TAP_KILLS:-6}
. tests/vm/lib/vdfd.sh

cleanup() {
	[ -n "${http:-}" ] && kill "$http" 2>/dev/null
	[ -n "${tap:-}" ] && kill "$tap" 2>/dev/null
	[ -n "${vdfd:-}" ] && kill "$vdfd" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT



echo "== VDF NIC $addr, kernel NIC $kif"
modprobe tun || fail "modprobe tun"
start_vdfd_crashtest e1000 --no-bind # the kernel's NIC stays the kernel's

$B/vdf-tap --vdf "$addr" --socket "$sock" >/tmp/tap.out 2>/tmp/tap.err &
tap=$!
wait_for 30 grep -q '^vdfnet0 mac' /tmp/tap.out && pass "vdf-tap: $(cat /tmp/tap.out)" ||
	fail "vdf-tap did not come up: $(tail -5 /tmp/tap.err)"
vmac=$(awk '{print $3}' /tmp/tap.out)
[ "$(cat /sys/class/net/vdfnet0/address 2>/dev/null)" = "$vmac" ] &&
	pass "vdfnet0 carries the NIC's MAC $vmac" || fail "vdfnet0 MAC $(cat /sys/class/net/vdfnet0/address)"

ip netns add peer
ip link set "$kif" netns peer
ip -n peer link set lo up
ip -n peer addr add 10.9.0.2/24 dev "$kif"
ip -n peer link set "$kif" up
ip addr add 10.9.0.1/24 dev vdfnet0
ip link set vdfnet0 up
wait_for 10 ip netns exec peer sh -c "[ \"\$(cat /sys/class/net/$kif/carrier)\" = 1 ]"

# --- ping both ways ---
pyping 3 10.9.0.2 >/tmp/ping1 2>&1 && pass "ping 10.9.0.2 (kernel NIC) from vdfnet0: $(tail -1 /tmp/ping1)" ||
	fail "ping from vdfnet0: $(cat /tmp/ping1)"
ip netns exec peer timeout 60 python3 tests/vm/lib/pyping.py 3 10.9.0.1 >/tmp/ping2 2>&1 &&
	pass "ping 10.9.0.1 (vdfnet0) from the peer namespace: $(tail -1 /tmp/ping2)" ||
	fail "ping from peer: $(cat /tmp/ping2)"

# --- a 32 MiB TCP transfer through the VDF driver ---
mkdir -p /tmp/www
head -c $((32 << 20)) /dev/urandom >/tmp/www/blob
want=$(sha256sum </tmp/www/blob | cut -d' ' -f1)
ip netns exec peer python3 -m http.server 8000 --bind 10.9.0.2 --directory /tmp/www \
	>/tmp/http.log 2>&1 &
http=$!
wait_for 20 curl -s -o /dev/null http://10.9.0.2:8000/ || fail "http server in peer not reachable"
t0=$(date +%s.%N)
curl -sS --max-time 300 -o /tmp/got http://10.9.0.2:8000/blob 2>/tmp/curl1.err
rc=$?
t1=$(date +%s.%N)
got=$(sha256sum </tmp/got | cut -d' ' -f1)
secs=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	pass "32 MiB over HTTP through the VDF driver in ${secs}s, sha256 matches"
else
	fail "download: curl rc $rc ($(cat /tmp/curl1.err)), sha256 $got want $want"
fi

# --- the same while the driver is killed with SIGKILL ---
restarts0=$(ctl --json stats "$addr" | field "['drivers'][0]['restarts']")
rm -f /tmp/got
# Paced so the transfer outlasts the kills.
curl -sS --max-time 600 --limit-rate 512K -o /tmp/got http://10.9.0.2:8000/blob \
	2>/tmp/curl2.err &
cpid=$!
sleep 2
done_kills=0
for i in $(seq "$kills"); do
	kill -0 "$cpid" 2>/dev/null || break
	pid=$(driver_pid)
	if [ -n "$pid" ] && [ "$pid" != None ] && kill -9 "$pid" 2>/dev/null; then
		done_kills=$((done_kills + 1))
		echo "$(date +%T.%N | cut -c1-12) kill -9 driver pid $pid ($done_kills)"
	fi
	sleep 0.5
	wait_for 30 state_is running || fail "driver not running again after kill $i"
	echo "$(date +%T.%N | cut -c1-12) driver running again"
	sleep 2
done
wait "$cpid"
rc=$?
got=$(sha256sum </tmp/got | cut -d' ' -f1)
if [ "$done_kills" -ge 5 ]; then
	pass "driver killed with SIGKILL $done_kills times during the transfer"
else
	fail "only $done_kills kills landed during the transfer"
fi
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	pass "32 MiB download survived $done_kills driver kills: completed, sha256 matches, no reset"
else
	fail "download under kills: curl rc $rc ($(cat /tmp/curl2.err)), sha256 $got want $want"
fi
reconn=$(grep -c 'reconnected, generation' /tmp/tap.err)
[ "$reconn" -ge "$done_kills" ] && pass "vdf-tap reconnected through vdfd $reconn times" ||
	fail "vdf-tap reconnected $reconn times for $done_kills kills: $(tail -5 /tmp/tap.err)"

# --- counters ---
stats=$(ctl --json stats "$addr")
echo "$stats"
restarts=$(echo "$stats" | field "['drivers'][0]['restarts']")
ios=$(echo "$stats" | field "['drivers'][0].get('ios', 0)")
[ $((restarts - restarts0)) -ge "$done_kills" ] &&
	pass "vdfd counted $((restarts - restarts0)) restarts for $done_kills kills" ||
	fail "vdfd restarts $restarts0 -> $restarts for $done_kills kills"
[ "${ios:-0}" -gt 0 ] 2>/dev/null && pass "vdfctl stats: the current driver moved $ios frames" ||
	fail "vdfctl stats shows no frames: $stats"
# The driver's heartbeat counters against a known transfer: the frames of a
# 32 MiB download (payload plus TCP/IP/Ethernet headers, plus the ACKs) all
# pass through the current driver instance.
b0=$(ctl --json stats "$addr" | field "['drivers'][0]['bytes']")
curl -sS --max-time 300 -o /tmp/got http://10.9.0.2:8000/blob 2>/tmp/curl3.err || fail "third download"
sleep 2.5 # a heartbeat (1 s) carries the counters to vdfd
b1=$(ctl --json stats "$addr" | field "['drivers'][0]['bytes']")
delta=$((b1 - b0))
lo=$((32 << 20)) hi=$(((32 << 20) * 110 / 100))
if [ "$delta" -ge "$lo" ] && [ "$delta" -le "$hi" ]; then
	pass "vdfctl stats: the driver counted $delta bytes for a 32 MiB download (headers and ACKs included)"
else
	fail "vdfctl stats: $b0 -> $b1 bytes ($delta) for a 32 MiB download"
fi
pyping 2 10.9.0.2 >/dev/null 2>&1 && pass "ping still works after the kills" ||
	fail "no ping after the kills"

# vdfctl stats against the wire, exactly: a quiet segment (no IPv6, no IP
# traffic), then known frame bursts each way. Both NICs sit alone on the hub,
# so the driver's counters must equal the kernel peer's and the bursts'.
sysctl -qw net.ipv6.conf.vdfnet0.disable_ipv6=1
ip netns exec peer sysctl -qw "net.ipv6.conf.$kif.disable_ipv6=1"
sleep 3 # the last frames and a heartbeat settle
nstat() { ip netns exec peer cat "/sys/class/net/$kif/statistics/$1"; }
vstat() { ctl --json stats "$addr" | field "['drivers'][0]['$1']"; }
snap() { # snap PREFIX: the driver's, the peer's and vdfnet0's counters
	local k
	for k in rx_ios rx_bytes tx_ios tx_bytes drops; do eval "$1_$k=$(vstat $k)"; done
	for k in rx_packets tx_packets rx_missed_errors; do eval "$1_p$k=$(nstat $k)"; done
	eval "$1_tapdrop=$(cat /sys/class/net/vdfnet0/statistics/tx_dropped)"
}
kmac=$(ip netns exec peer cat "/sys/class/net/$kif/address")
snap s0
$B/vdf-netperf tx vdfnet0 --dst "$kmac" --size 1000 --batch 8 --count 2000 >/tmp/np1 ||
	fail "vdf-netperf tx on vdfnet0: $(cat /tmp/np1)"
ip netns exec peer $B/vdf-netperf tx "$kif" --dst "$vmac" --size 700 --batch 8 --count 3000 \
	>/tmp/np2 || fail "vdf-netperf tx in peer: $(cat /tmp/np2)"
sleep 2.5 # a heartbeat carries the counters to vdfd
snap s1
sent=$((2000 - (s1_tapdrop - s0_tapdrop))) # frames the TAP queue dropped never reached VDF
dtx=$((s1_tx_ios - s0_tx_ios)) dtxb=$((s1_tx_bytes - s0_tx_bytes))
dprx=$((s1_prx_packets - s0_prx_packets)) dpmiss=$((s1_prx_missed_errors - s0_prx_missed_errors))
[ "$dtx" = "$sent" ] && [ "$dtxb" = $((sent * 1000)) ] &&
	pass "vdfctl stats: tx $dtx frames / $dtxb bytes = the $sent 1000-byte frames sent through vdfnet0" ||
	fail "vdfctl stats tx: $dtx frames / $dtxb bytes; sent $sent (TAP dropped $((s1_tapdrop - s0_tapdrop)))"
# On the wire: the peer received them, or (a busy peer, its ring full) counted
# the rest as missed; QEMU's MPC may count a frame more than once.
[ "$dprx" -le "$dtx" ] && [ $((dprx + dpmiss)) -ge "$dtx" ] &&
	pass "the peer received $dprx of the $dtx frames and counted $dpmiss missed" ||
	fail "the peer received $dprx and missed $dpmiss of $dtx frames"
drx=$((s1_rx_ios - s0_rx_ios)) drxb=$((s1_rx_bytes - s0_rx_bytes)) ddrop=$((s1_drops - s0_drops))
dptx=$((s1_ptx_packets - s0_ptx_packets))
# Every frame the peer sent was received or counted as dropped. (drops
# includes the device's Missed Packets Count; QEMU's e1000 counts a frame
# there when it finds the ring empty and then holds the frame until
# descriptors come back, so drops may exceed the frames really lost.)
[ "$dptx" = 3000 ] && [ "$drx" -le 3000 ] && [ $((drx + ddrop)) -ge 3000 ] &&
	[ "$drxb" = $((drx * 700)) ] &&
	pass "vdfctl stats: rx $drx frames / $drxb bytes of the 3000 700-byte frames the peer sent (drops +$ddrop)" ||
	fail "vdfctl stats rx: $drx frames / $drxb bytes, $ddrop drops; the peer sent $dptx of 3000"
kill "$tap" 2>/dev/null
wait "$tap" 2>/dev/null
echo "vdf-tap: $(tail -1 /tmp/tap.err)"
tap=

if dmesg | grep -qi 'DMAR.*fault'; then
	fail "IOMMU faults: $(dmesg | grep -iE 'DMAR' | tail -3)"
else
	pass "no IOMMU faults"
fi
[ $fails = 0 ]
