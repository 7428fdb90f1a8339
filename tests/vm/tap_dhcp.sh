#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nic e1000,vfio,user --host-http 48M --mem 1024 --timeout 900
#
# The TAP bridge (tools/tap/vdf-tap) over the e1000 driver under vdfd, with
# QEMU user networking (slirp) on the wire: DHCP on vdfnet0 gets a 10.0.2.x
# lease, the gateway 10.0.2.2 answers ICMP echo, and a random blob served by
# vm/run --host-http on the HOST's loopback (10.0.2.2:PORT from the guest) is
# downloaded through the VDF driver with matching sha256; then the same
# download, paced, while the driver is killed with SIGKILL at least 5 times:
# curl exits 0 and sha256 matches. tests/vm/tap_dhcp_e1000e.sh runs it on the
# 82574L; by hand:
#   vm/run --nic e1000e,vfio,user --host-http 48M --mem 1024 --timeout 900 tests/vm/tap_dhcp.sh
set -u
cd "$(dirname "$0")/../.."
B=build/bin
addr=${VDF_NIC_VFIO%% *}
sock=/tmp/vdfd.sock
kills=${VDF_TAP_KILLS:-6}
. tests/vm/lib/vdfd.sh

[ -n "${VDF_HOST_HTTP:-}" ] && [ -n "${VDF_HOST_HTTP_SHA256:-}" ] ||
	{ echo "FAIL: no VDF_HOST_HTTP (run with vm/run --host-http SIZE)"; exit 1; }
want=$VDF_HOST_HTTP_SHA256
url=http://$VDF_HOST_HTTP/blob

cleanup() {
	[ -n "${tap:-}" ] && kill "$tap" 2>/dev/null
	[ -n "${vdfd:-}" ] && kill "$vdfd" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT


# udhcpc's lease script: apply the lease with ip(8), record it.
cat >/tmp/udhcpc.sh <<'SH'
#!/bin/sh
case $1 in
deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
bound | renew)
	m=${mask:-24}
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/$m" dev "$interface"
	for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
	echo "ip=$ip mask=$m router=$router dns=$dns lease=$lease" >/tmp/lease
	;;
esac
exit 0
SH
chmod +x /tmp/udhcpc.sh

model=$(cat /sys/bus/pci/devices/$addr/device 2>/dev/null)
echo "== VDF NIC $addr (device id $model), QEMU user networking, host http $VDF_HOST_HTTP"
modprobe tun || fail "modprobe tun"
start_vdfd_crashtest e1000 --no-bind || exit 1

$B/vdf-tap --vdf "$addr" --socket "$sock" >/tmp/tap.out 2>/tmp/tap.err &
tap=$!
wait_for 30 grep -q '^vdfnet0 mac' /tmp/tap.out && pass "vdf-tap: $(cat /tmp/tap.out)" ||
	{ fail "vdf-tap did not come up: $(tail -5 /tmp/tap.err)"; exit 1; }

# --- DHCP from slirp ---
timeout 60 busybox udhcpc -i vdfnet0 -f -q -n -t 10 -T 2 -s /tmp/udhcpc.sh >/tmp/udhcpc.log 2>&1
rc=$?
lease=$(cat /tmp/lease 2>/dev/null)
ipaddr=$(ip -4 -o addr show dev vdfnet0 | awk '{print $4}')
case $ipaddr in
10.0.2.*) [ "$rc" = 0 ] && pass "DHCP on vdfnet0: $ipaddr ($lease)" || fail "udhcpc rc $rc: $(cat /tmp/udhcpc.log)" ;;
*) fail "DHCP on vdfnet0: rc $rc, address '$ipaddr': $(cat /tmp/udhcpc.log)"; exit 1 ;;
esac
ip route show | grep -q '^default via 10.0.2.2 dev vdfnet0' && pass "default route via 10.0.2.2" ||
	fail "no default route: $(ip route show)"

# --- ping the gateway ---
pyping 3 10.0.2.2 >/tmp/ping1 2>&1 && pass "ping 10.0.2.2 (slirp gateway) through the VDF driver: $(tail -1 /tmp/ping1)" ||
	fail "ping 10.0.2.2: $(cat /tmp/ping1)"

# --- download from the host's loopback ---
size=$(curl -sSI --max-time 30 "$url" | tr -d '\r' | awk 'tolower($1) == "content-length:" {print $2}')
mib=$(( ${size:-0} >> 20 ))
[ "$mib" -ge 32 ] || fail "blob is ${size:-?} bytes, want >= 32 MiB"
t0=$(date +%s.%N)
curl -sS --max-time 300 -o /tmp/got "$url" 2>/tmp/curl1.err
rc=$?
t1=$(date +%s.%N)
got=$(sha256sum </tmp/got | cut -d' ' -f1)
secs=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	pass "$mib MiB from the host's loopback ($url) through the VDF driver in ${secs}s, sha256 matches"
else
	fail "download: curl rc $rc ($(cat /tmp/curl1.err)), sha256 $got want $want"
fi

# --- the same while the driver is killed with SIGKILL ---
restarts0=$(ctl --json stats "$addr" | field "['drivers'][0]['restarts']")
rm -f /tmp/got
# Paced so the transfer outlasts the kills (48 MiB at 768 KiB/s: about 64 s).
curl -sS --max-time 600 --limit-rate 768K -o /tmp/got "$url" 2>/tmp/curl2.err &
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
[ "$done_kills" -ge 5 ] && pass "driver killed with SIGKILL $done_kills times during the download" ||
	fail "only $done_kills kills landed during the download"
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
	pass "$mib MiB download from the host survived $done_kills driver kills: curl exit 0, sha256 matches"
else
	fail "download under kills: curl rc $rc ($(cat /tmp/curl2.err)), sha256 $got want $want"
fi
reconn=$(grep -c 'reconnected, generation' /tmp/tap.err)
[ "$reconn" -ge "$done_kills" ] && pass "vdf-tap reconnected through vdfd $reconn times" ||
	fail "vdf-tap reconnected $reconn times for $done_kills kills: $(tail -5 /tmp/tap.err)"
restarts=$(ctl --json stats "$addr" | field "['drivers'][0]['restarts']")
[ $((restarts - restarts0)) -ge "$done_kills" ] &&
	pass "vdfd counted $((restarts - restarts0)) restarts for $done_kills kills" ||
	fail "vdfd restarts $restarts0 -> $restarts for $done_kills kills"
pyping 2 10.0.2.2 >/dev/null 2>&1 && pass "gateway ping still works after the kills" ||
	fail "no gateway ping after the kills"

if dmesg | grep -qi 'DMAR.*fault'; then
	fail "IOMMU faults: $(dmesg | grep -iE 'DMAR' | tail -3)"
else
	pass "no IOMMU faults"
fi
[ $fails = 0 ]
