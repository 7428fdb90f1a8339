#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo: boot the test guest with an emulated NVMe controller bound to
# vfio-pci and show VDF's NVMe driver working on it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: booting the guest (QEMU q35 + emulated IOMMU, Debian 6.12 kernel)..."
exec vm/run --nvme vfio,size=512M --mem 512 tools/demo-guest.sh
