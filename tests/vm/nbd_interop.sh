#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm-run: --mem 512
#
# tests/vm/nbd_interop.sh - vdf-nbd against real NBD clients. Run it with
#   vm/run --mem 512 tests/vm/nbd_interop.sh
# (it also runs on a host as root, skipping what the host lacks).
#
# Serves a memory export on a unix socket and on TCP loopback and checks:
#   nbdinfo (size, flags, block sizes, LIST), qemu-io (write/read/pattern,
#   zero, discard, FUA), qemu-img convert (export -> file equals what was
#   written), malformed client bytes (server survives), and the Linux kernel
#   client: nbd-client -> /dev/nbd0 -> mkfs.ext4 -> mount -> copy 64 MiB ->
#   sha256 after remount -> umount -> nbd-client -d -> fsck clean.
# Prints PASS:/FAIL:/SKIP: lines; exits non-zero on any FAIL.
set -uo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." || exit 2
BIN=$PWD/build/bin/vdf-nbd
[ -x "$BIN" ] || { echo "FAIL: nbd build ($BIN missing: run make)"; exit 1; }

W=$(mktemp -d /tmp/nbd-interop.XXXXXX)
fails=0
pids=()
pass() { echo "PASS: nbd $*"; }
fail() {
	echo "FAIL: nbd $*"
	fails=$((fails + 1))
}
skip() { echo "SKIP: nbd $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
cleanup() {
	mountpoint -q "$W/mnt" 2>/dev/null && umount "$W/mnt"
	[ -b /dev/nbd0 ] && nbd-client -d /dev/nbd0 >/dev/null 2>&1
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# start NAME ARGS...: start a server and wait for its socket.
start() {
	local log=$W/$1.log
	shift
	"$BIN" "$@" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		grep -q serving "$log" && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log"
	return 1
}

SOCK=$W/nbd.sock
PORT=10809
URI_UNIX="nbd+unix:///?socket=$SOCK"
URI_TCP="nbd://127.0.0.1:$PORT/"
start unix --unix "$SOCK" --memory 64M || fail "server start (unix)"
start tcp --tcp 127.0.0.1:$PORT --export vdf --memory 256M || fail "server start (tcp)"

# --- nbdinfo ------------------------------------------------------------------
if have nbdinfo; then
	out=$(timeout 30 nbdinfo "$URI_UNIX" 2>&1)
	if grep -q 'export-size: 67108864' <<<"$out" && grep -q 'can_flush: true' <<<"$out" &&
		grep -q 'can_fua: true' <<<"$out" && grep -q 'can_trim: true' <<<"$out" &&
		grep -q 'can_zero: true' <<<"$out" && grep -q 'is_read_only: false' <<<"$out" &&
		grep -q 'block_size_maximum: 33554432' <<<"$out"; then
		pass "nbdinfo unix: size 64M, flush/fua/trim/zero, block sizes"
	else
		fail "nbdinfo unix: $out"
	fi
	out=$(timeout 30 nbdinfo --list "$URI_TCP" 2>&1)
	if grep -q 'export="vdf"' <<<"$out" && grep -q 'export-size: 268435456' <<<"$out"; then
		pass "nbdinfo --list tcp: export vdf, 256M"
	else
		fail "nbdinfo --list tcp: $out"
	fi
	if ! timeout 30 nbdinfo "nbd://127.0.0.1:$PORT/nosuch" >/dev/null 2>&1; then
		pass "nbdinfo unknown export refused"
	else
		fail "nbdinfo unknown export accepted"
	fi
	start ro --unix "$W/ro.sock" --read-only --memory 1M || fail "server start (ro)"
	if timeout 30 nbdinfo "nbd+unix:///?socket=$W/ro.sock" | grep -q 'is_read_only: true'; then
		pass "nbdinfo --read-only export"
	else
		fail "nbdinfo --read-only export"
	fi
else
	skip "nbdinfo (install libnbd-bin)"
fi

# --- qemu-io / qemu-img ---------------------------------------------------------
if have qemu-io && have qemu-img; then
	if timeout 60 qemu-io -f raw -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 1M 1M' \
		-c 'write -f -P 0x11 3M 4k' -c 'write -z 2M 512k' -c 'discard 8M 1M' -c 'flush' \
		-c 'read -P 0x5a 0 1M' -c 'read -P 0xa5 1M 1M' -c 'read -P 0 2M 512k' \
		-c 'read -P 0x11 3M 4k' -c 'read -P 0 8M 1M' -c 'read -P 0x5a 100 1000' \
		"$URI_UNIX" >"$W/qio.log" 2>&1 && ! grep -q -i -e 'fail' -e 'error' -e 'mismatch' "$W/qio.log"; then
		pass "qemu-io unix: write/read patterns, FUA, zero, discard, flush, unaligned"
	else
		fail "qemu-io unix: $(tail -5 "$W/qio.log")"
	fi
	out=$(timeout 30 qemu-io -f raw -c 'read 64M 512' "$URI_UNIX" 2>&1)
	if grep -q -i 'read failed' <<<"$out"; then
		pass "qemu-io read past the end refused"
	else
		fail "qemu-io read past the end"
	fi
	head -c 32M /dev/urandom >"$W/src.img"
	truncate -s 256M "$W/src.img"
	if timeout 120 qemu-img convert -n -f raw -O raw "$W/src.img" "$URI_TCP"vdf 2>"$W/qi.log" &&
		timeout 120 qemu-img convert -f raw -O raw "$URI_TCP"vdf "$W/out.img" 2>>"$W/qi.log" &&
		cmp "$W/src.img" "$W/out.img"; then
		pass "qemu-img convert tcp: 256M in and out, identical"
	else
		fail "qemu-img convert tcp: $(tail -3 "$W/qi.log")"
	fi
	rm -f "$W/src.img" "$W/out.img"
else
	skip "qemu-io/qemu-img (install qemu-utils)"
fi

# --- malformed clients --------------------------------------------------------
if have python3; then
	if timeout 30 python3 - "$SOCK" <<'EOF'; then
import socket, struct, sys
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
    g = s.recv(18); assert g[:16] == b'NBDMAGICIHAVEOPT', g
    return s
# bad client flags, bad option magic, huge option, garbage request after GO
for payload in [struct.pack('>I', 0xffffffff),
                struct.pack('>I', 1) + b'X' * 16,
                struct.pack('>IQII', 1, 0x49484156454f5054, 99, 0xffffffff),
                struct.pack('>IQII', 1, 0x49484156454f5054, 1, 4) + b'\xff' * 4 + b'\0' * 28]:
    s = conn(); s.sendall(payload)
    try:
        while s.recv(4096): pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        sys.exit('server did not hang up')
    s.close()
# write of 64 MiB + 1 (over the cap): the server hangs up
s = conn()
s.sendall(struct.pack('>IQII', 3, 0x49484156454f5054, 1, 0))
s.recv(10)
s.sendall(struct.pack('>IHHQQI', 0x25609513, 0, 1, 7, 0, (64 << 20) + 1))
try:
    while s.recv(4096): pass
except ConnectionResetError:
    pass
except socket.timeout:
    sys.exit('server did not hang up on oversized write')
EOF
		pass "malformed handshakes and oversized write: hang up, server alive"
	else
		fail "malformed clients"
	fi
	kill -0 "${pids[0]}" 2>/dev/null || fail "server died"
fi

# --- Linux kernel client --------------------------------------------------------
kernel_test() { # $1 = label, $2 = files of 16 MiB to copy, rest: nbd-client arguments
	local label=$1 nfiles=$2 m=$W/mnt i names=()
	shift 2
	if ! nbd-client "$@" /dev/nbd0 -b 4096 >"$W/nbdc.log" 2>&1; then
		fail "nbd-client $label: $(cat "$W/nbdc.log")"
		return
	fi
	pass "nbd-client $label attach /dev/nbd0 ($(blockdev --getsize64 /dev/nbd0) bytes)"
	mkdir -p "$m" "$W/files"
	for i in $(seq "$nfiles"); do
		head -c 16M /dev/urandom >"$W/files/f$i"
		names+=("f$i")
	done
	(cd "$W/files" && sha256sum "${names[@]}") >"$W/sums"
	if mkfs.ext4 -q -F /dev/nbd0 >"$W/mkfs.log" 2>&1 && mount /dev/nbd0 "$m" &&
		cp "$W"/files/f* "$m"/ && sync && umount "$m" &&
		mount /dev/nbd0 "$m" && (cd "$m" && sha256sum -c --quiet "$W/sums") &&
		umount "$m"; then
		pass "kernel $label: mkfs.ext4, mount, copy $((nfiles * 16)) MiB, sha256 match after remount"
	else
		fail "kernel $label: filesystem round trip ($(tail -3 "$W/mkfs.log"))"
		mountpoint -q "$m" && umount "$m"
	fi
	if fsck.ext4 -n -f /dev/nbd0 >"$W/fsck.log" 2>&1; then
		pass "kernel $label: fsck clean"
	else
		fail "kernel $label: fsck: $(tail -3 "$W/fsck.log")"
	fi
	nbd-client -d /dev/nbd0 >/dev/null 2>&1 && pass "nbd-client $label -d" ||
		fail "nbd-client $label -d"
	rm -rf "$W/files"
	sleep 0.5
}
if [ "$(id -u)" -ne 0 ] || ! have nbd-client; then
	skip "kernel client (needs root and nbd-client)"
elif ! modprobe nbd 2>/dev/null || ! [ -b /dev/nbd0 ]; then
	skip "kernel client (no nbd module)"
else
	kernel_test tcp 4 -N vdf 127.0.0.1 $PORT
	kernel_test unix 2 -u "$SOCK"
fi

kill -0 "${pids[0]}" 2>/dev/null && kill -0 "${pids[1]}" 2>/dev/null &&
	pass "servers still running" || fail "a server died"
echo "nbd_interop: $fails failure(s)"
exit $((fails > 0))
