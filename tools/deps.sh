#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/deps.sh - install the build/test dependencies and fetch the guest kernel.
#
# Idempotent: packages are installed only when dpkg says one is missing, and the
# guest kernel is fetched and prepared only when its stamp file is absent. A run
# with everything in place finishes in well under a second.
#
# Environment:
#   VDF_CACHE       cache directory (default /var/cache/vdf)
#   VDF_KERNEL_PKG  exact kernel package to use instead of the newest
#                   linux-image-6.12.*+deb12-amd64-unsigned
#   VDF_KERNEL_UPDATE=1  look for a newer kernel package even if one is prepared
#   VDF_OFFLINE=1   do not run apt-get update when looking for the kernel
#
# Cache layout (read by vm/run):
#   $VDF_CACHE/kernel.env          KVER=..., VMLINUX=..., BZIMAGE=..., MODROOT=...
#   $VDF_CACHE/kernel/$KVER/vmlinux   uncompressed kernel (ELF, PVH entry) for -kernel
#   $VDF_CACHE/kernel/$KVER/vmlinuz   the package's bzImage (fallback)
#   $VDF_CACHE/kernel/$KVER/root/lib/modules/$KVER/   all modules, decompressed, depmod'ed
set -euo pipefail

CACHE=${VDF_CACHE:-/var/cache/vdf}
PACKAGES=(
	build-essential clang llvm libclang-rt-14-dev
	libcmocka-dev libseccomp-dev libjson-c-dev liburing-dev
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd socat fio python3
	pciutils e2fsprogs nbd-client libnbd-bin qemu-utils iperf3
)
# Bump when the layout of a prepared kernel changes, so old caches are redone.
PREP_VERSION=1

log() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "$1 needs root (run as root or with sudo)"
}

apt_updated=0
apt_update() {
	if [ "$apt_updated" -eq 0 ]; then
		log "apt-get update"
		apt-get update -qq >&2
		apt_updated=1
	fi
}

# --- 1. Debian packages ------------------------------------------------------
install_packages() {
	local missing=() p st
	for p in "${PACKAGES[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || missing+=("$p")
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		log "all ${#PACKAGES[@]} packages installed"
		return 0
	fi
	need_root "installing ${missing[*]}"
	apt_update
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
}

# --- 2. Guest kernel ---------------------------------------------------------

# Newest linux-image-6.12.N+deb12-amd64-unsigned known to apt (not cloud/rt/dbg).
newest_kernel_pkg() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
		awk '{print $1}' | sort -V | tail -n 1
}

# Extract the uncompressed kernel from a bzImage (x86 boot protocol >= 2.08):
# setup_sects is the byte at 0x1f1 (0 means 4), the protected-mode code starts
# at (setup_sects + 1) * 512, and payload_offset/payload_length (u32 LE at 0x248
# and 0x24c) locate the compressed vmlinux inside it. The kernel build appends
# the uncompressed size (u32 LE) to the compressed stream; it is cut off here.
extract_vmlinux() {
	local bz=$1 out=$2 comp
	comp=$(python3 - "$bz" "$out.payload" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
if data[0x202:0x206] != b'HdrS':
    sys.exit('not a bzImage: no HdrS magic')
if struct.unpack_from('<H', data, 0x206)[0] < 0x208:
    sys.exit('boot protocol too old for payload_offset')
setup = data[0x1f1] or 4
poff, plen = struct.unpack_from('<II', data, 0x248)
start = (setup + 1) * 512 + poff
payload = data[start:start + plen - 4]
open(sys.argv[2], 'wb').write(payload)
if payload.startswith(b'\x28\xb5\x2f\xfd'):
    print('zstd')
elif payload.startswith(b'\xfd7zXZ\x00'):
    print('xz')
else:
    print('unknown:' + payload[:6].hex())
EOF
)
	case $comp in
	zstd) zstd -dq -c "$out.payload" >"$out.tmp" ;;
	xz) xz -dq -c "$out.payload" >"$out.tmp" ;;
	*) die "unknown kernel payload compression ($comp) in $bz" ;;
	esac
	rm -f "$out.payload"
	[ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
		die "payload of $bz did not decompress to an ELF vmlinux"
	mv "$out.tmp" "$out"
}

prepare_kernel() {
	local pkg=${VDF_KERNEL_PKG:-} kver kdir tmp deb dl
	mkdir -p "$CACHE"
	# Stamp: once a kernel is prepared it stays the one used (so test results do
	# not change under our feet) until VDF_KERNEL_UPDATE=1 or VDF_KERNEL_PKG asks.
	if [ -z "$pkg" ] && [ "${VDF_KERNEL_UPDATE:-0}" != 1 ] && [ -f "$CACHE/kernel.env" ]; then
		kdir=$(sed -n 's/^KDIR=//p' "$CACHE/kernel.env")
		if [ -n "$kdir" ] && [ "$(cat "$kdir/.prepared" 2>/dev/null || true)" = "$PREP_VERSION" ]; then
			log "kernel $(basename "$kdir") ready in $kdir (VDF_KERNEL_UPDATE=1 to look for a newer one)"
			return 0
		fi
	fi
	if [ -z "$pkg" ]; then
		pkg=$(newest_kernel_pkg)
		if [ -z "$pkg" ] && [ "${VDF_OFFLINE:-0}" != 1 ]; then
			need_root "apt-get update"
			apt_update
			pkg=$(newest_kernel_pkg)
		fi
		[ -n "$pkg" ] || die "no linux-image-6.12.*+deb12-amd64-unsigned package known to apt"
	fi
	kver=${pkg#linux-image-}
	kver=${kver%-unsigned}
	kdir=$CACHE/kernel/$kver
	if [ -f "$kdir/.prepared" ] && [ "$(cat "$kdir/.prepared")" = "$PREP_VERSION" ]; then
		log "kernel $kver ready in $kdir"
		write_env "$kver" "$kdir"
		return 0
	fi

	log "preparing guest kernel $kver from $pkg"
	mkdir -p "$CACHE/debs"
	deb=$(ls "$CACHE"/debs/"${pkg}"_*.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		# apt drops privileges to _apt for downloads: give it a directory it may write.
		dl=$(mktemp -d "$CACHE/debs/dl.XXXXXX")
		chmod 755 "$dl"
		if id _apt >/dev/null 2>&1; then chown _apt "$dl"; fi
		log "apt-get download $pkg"
		(cd "$dl" && apt-get download -qq "$pkg" >&2)
		mv "$dl"/*.deb "$CACHE/debs/"
		rmdir "$dl"
		deb=$(ls "$CACHE"/debs/"${pkg}"_*.deb | tail -n 1)
	fi

	rm -rf "$kdir"
	mkdir -p "$kdir"
	tmp=$kdir/unpack
	log "dpkg-deb -x $(basename "$deb")"
	dpkg-deb -x "$deb" "$tmp"
	cp "$tmp/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	cp "$tmp/boot/config-$kver" "$kdir/config"
	cp "$tmp/boot/System.map-$kver" "$kdir/System.map"

	log "extracting uncompressed vmlinux from the bzImage"
	extract_vmlinux "$kdir/vmlinuz" "$kdir/vmlinux"

	mkdir -p "$kdir/root/lib"
	mv "$tmp/lib/modules" "$kdir/root/lib/modules"
	rm -rf "$tmp"
	log "decompressing $(find "$kdir/root" -name '*.ko.xz' | wc -l) modules (.ko.xz -> .ko)"
	find "$kdir/root" -name '*.ko.xz' -print0 | xargs -0 -r -n 256 -P "$(nproc)" xz -d
	find "$kdir/root" -name '*.ko.zst' -print0 | xargs -0 -r -n 256 -P "$(nproc)" zstd -dq --rm
	log "depmod -b $kdir/root $kver"
	depmod -b "$kdir/root" "$kver"
	[ -s "$kdir/root/lib/modules/$kver/modules.dep" ] || die "depmod produced no modules.dep"
	echo "$PREP_VERSION" >"$kdir/.prepared"
	write_env "$kver" "$kdir"
	log "kernel $kver ready in $kdir"
}

write_env() {
	local kver=$1 kdir=$2 new
	new=$(printf 'KVER=%s\nKDIR=%s\nVMLINUX=%s\nBZIMAGE=%s\nMODROOT=%s\n' \
		"$kver" "$kdir" "$kdir/vmlinux" "$kdir/vmlinuz" "$kdir/root")
	if [ "$(cat "$CACHE/kernel.env" 2>/dev/null || true)" != "$new" ]; then
		printf '%s\n' "$new" >"$CACHE/kernel.env.tmp"
		mv "$CACHE/kernel.env.tmp" "$CACHE/kernel.env"
	fi
}

install_packages
prepare_kernel
