#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo: boot the test guest with an emulated NVMe controller and a
# bochs-display bound to vfio-pci, show VDF's NVMe driver working, vdfd
# running it sandboxed and recovering it from a kill -9, and the display
# driver showing VDF's device list; save a screenshot of that screen.
set -euo pipefail
cd "$(dirname "$0")/.."
rundir=$(mktemp -d /tmp/vdf-demo.XXXXXX)
trap 'rm -rf "$rundir"' EXIT
echo "demo: booting the guest (QEMU q35 + emulated IOMMU, Debian 6.12 kernel)..."
rc=0
vm/run --rundir "$rundir/vm" --nvme vfio,size=512M --display vfio --qmp --mem 512 \
	tools/demo-guest.sh || rc=$?
if [ -s "$rundir/vm/demo-screen.png" ]; then
	mkdir -p build
	cp "$rundir/vm/demo-screen.png" build/demo-screen.png
	echo "demo: screenshot of the guest's display: $PWD/build/demo-screen.png"
fi
exit $rc
