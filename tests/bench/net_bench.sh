#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nic e1000,vfio --nic e1000,kernel --nic e1000,kernel,hub=1 --nic e1000,kernel,hub=1 --nic e1000e,vfio,hub=2 --nic e1000e,kernel,hub=2 --nic e1000e,kernel,hub=3 --nic e1000e,kernel,hub=3 --mem 1536 --timeout 3000
#
# Packet rate and TCP throughput of VDF's e1000/e1000e driver behind vdf-tap
# against the Linux kernel's e1000/e1000e driver, in one guest boot. Per
# model, four identical NICs on two QEMU hubs: hub A joins the VDF NIC
# (vdfnet0/vdfnet1, under vdfd) to a kernel NIC in namespace "pv-MODEL"; hub
# B joins a kernel NIC (the measured one, in the root namespace) to another
# kernel NIC in "pk-MODEL". The peers are the same driver in both pairs, so
# the two rows differ only in the measured side's driver.
#
# Per side, frame size (60 and 1514 bytes without FCS: 64- and 1518-byte
# frames on the wire) and batch (1, 8, 32 frames per system call):
#   tx  vdf-netperf tx on the measured interface; the rate is what arrived:
#       the peer's rx_packets counter over the sending time
#   rx  the peer sends (batch 32) for the same time; the rate is what
#       vdf-netperf rx on the measured interface received (recvmmsg, batch N)
# then iperf3 TCP, measured side as client, both directions (-R).
# Results: $VDF_HOST_OUT/net-*.json for tools/bench_table.py; a measurement
# that fails is reported, left out, and makes the exit status 1.
set -u
cd "$(dirname "$0")/../.."
B=build/bin
secs=${VDF_NET_BENCH_SECONDS:-5}
out=${VDF_HOST_OUT:-/tmp}
sock=/tmp/vdfd.sock
read -r -a vfio <<<"$VDF_NIC_VFIO"
read -r -a kif <<<"$VDF_NIC_KERNEL_IF"
. tests/vm/lib/vdfd.sh

cleanup() {
	pkill -f 'iperf3 -s' 2>/dev/null
	for p in ${taps:-}; do kill "$p" 2>/dev/null; done
	[ -n "${vdfd:-}" ] && kill "$vdfd" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

[ "${#vfio[@]}" = 2 ] && [ "${#kif[@]}" = 6 ] || {
	echo "net_bench: want 2 VFIO and 6 kernel NICs (see the vm-run line)" >&2
	exit 1
}
modprobe tun || exit 1
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
$B/vdfd --socket "$sock" --bindir "$PWD/$B" --no-bind 2>/tmp/vdfd.log &
vdfd=$!
running() { [ "$(ctl --json stats "$1" | field "['drivers'][0]['state']")" = running ]; }
taps=
for i in 0 1; do
	if ! wait_for 60 running "${vfio[$i]}"; then
		echo "net_bench: driver for ${vfio[$i]} not running: $(tail -5 /tmp/vdfd.log)" >&2
		exit 1
	fi
	$B/vdf-tap --vdf "${vfio[$i]}" --socket "$sock" --name "vdfnet$i" \
		>"/tmp/tap$i.out" 2>"/tmp/tap$i.err" &
	taps="$taps $!"
	wait_for 30 grep -q "^vdfnet$i mac" "/tmp/tap$i.out" || {
		echo "net_bench: vdf-tap vdfnet$i did not come up: $(tail -3 /tmp/tap$i.err)" >&2
		exit 1
	}
done

# pair SUBNET MEASURED_IF PEER_IF NETNS: the measured interface gets
# 10.9.SUBNET.1 in the root namespace, the peer 10.9.SUBNET.2 in NETNS.
pair() {
	ip netns add "$4"
	ip link set "$3" netns "$4"
	ip -n "$4" link set lo up
	ip -n "$4" addr add "10.9.$1.2/24" dev "$3"
	ip -n "$4" link set "$3" up
	ip addr add "10.9.$1.1/24" dev "$2"
	ip link set "$2" up
	wait_for 10 ip netns exec "$4" sh -c "[ \"\$(cat /sys/class/net/$3/carrier)\" = 1 ]" ||
		{ echo "net_bench: $3 in $4: no carrier" >&2; return 1; }
	wait_for 10 sh -c "[ \"\$(cat /sys/class/net/$2/carrier)\" = 1 ]" ||
		{ echo "net_bench: $2: no carrier" >&2; return 1; }
	pyping 3 "10.9.$1.2" >/dev/null || { echo "net_bench: $2 cannot ping 10.9.$1.2" >&2; return 1; }
}
peer_rx() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# measure MODEL SIDE SUBNET IF PEER_IF NETNS: every row of one side.
measure() {
	local model=$1 side=$2 net=$3 ifn=$4 pif=$5 ns=$6 size batch name r0 r1 t sent rxpid
	local dmac pmac
	dmac=$(ip netns exec "$ns" cat "/sys/class/net/$pif/address")
	pmac=$(cat "/sys/class/net/$ifn/address")
	for size in 60 1514; do
		for batch in 1 8 32; do
			name="net-$model-$side-tx-$size-b$batch"
			r0=$(peer_rx "$ns" "$pif")
			if sent=$($B/vdf-netperf tx "$ifn" --dst "$dmac" --size "$size" --batch "$batch" \
				--seconds "$secs"); then
				sleep 1 # frames still in queues arrive
				r1=$(peer_rx "$ns" "$pif")
				t=$(echo "$sent" | json_field seconds)
				python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["offered_pps"]=d["pps"]
d["delivered"]=int(sys.argv[2]); d["pps"]=d["delivered"]/float(sys.argv[3])
print(json.dumps(d))' "$sent" $((r1 - r0)) "$t" >"$out/$name.json"
				echo "$name: $(cat "$out/$name.json")"
			else
				echo "net_bench: $name failed" >&2
				fails=$((fails + 1))
			fi
			name="net-$model-$side-rx-$size-b$batch"
			$B/vdf-netperf rx "$ifn" --batch "$batch" --seconds "$secs" >"$out/$name.json" &
			rxpid=$!
			sleep 0.5
			ip netns exec "$ns" $B/vdf-netperf tx "$pif" --dst "$pmac" --size "$size" \
				--batch 32 --seconds $((secs + 2)) >/dev/null
			if wait "$rxpid"; then
				echo "$name: $(cat "$out/$name.json")"
			else
				echo "net_bench: $name failed: $(cat "$out/$name.json")" >&2
				rm -f "$out/$name.json"
				fails=$((fails + 1))
			fi
		done
	done
	for dir in up down; do
		name="net-$model-$side-tcp-$dir"
		flag=
		[ "$dir" = down ] && flag=-R
		if timeout $((secs * 2 + 60)) iperf3 -c "10.9.$net.2" -t $((secs * 2)) $flag -J \
			>"$out/$name.json" 2>/dev/null; then
			echo "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print("%.1f Mbit/s" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' "$out/$name.json")"
		else
			echo "net_bench: $name failed" >&2
			rm -f "$out/$name.json"
			fails=$((fails + 1))
		fi
	done
}

# Two models; per model the VDF pair (subnet 2m) and the kernel pair (2m+1).
# kif: [peer of VDF e1000, measured e1000, its peer, peer of VDF e1000e,
#       measured e1000e, its peer]
for m in 0 1; do
	model=e1000
	[ "$m" = 1 ] && model=e1000e
	vnet=$((2 * m)) knet=$((2 * m + 1))
	if ! pair "$vnet" "vdfnet$m" "${kif[$((3 * m))]}" "pv-$model" ||
		! pair "$knet" "${kif[$((3 * m + 1))]}" "${kif[$((3 * m + 2))]}" "pk-$model"; then
		echo "net_bench: $model: the NIC pairs did not come up" >&2
		fails=$((fails + 1))
		continue
	fi
	ip netns exec "pv-$model" iperf3 -s -D -B "10.9.$vnet.2"
	ip netns exec "pk-$model" iperf3 -s -D -B "10.9.$knet.2"
	sleep 1
	echo "== $model: kernel ${kif[$((3 * m + 1))]}, VDF vdfnet$m (${vfio[$m]})"
	measure "$model" kernel "$knet" "${kif[$((3 * m + 1))]}" "${kif[$((3 * m + 2))]}" "pk-$model"
	measure "$model" vdf "$vnet" "vdfnet$m" "${kif[$((3 * m))]}" "pv-$model"
done
for i in 0 1; do
	ctl --json stats "${vfio[$i]}" >"$out/net-vdf-stats-$i.json" 2>/dev/null
done
echo "net_bench: $fails measurement(s) failed"
[ "$fails" = 0 ]
