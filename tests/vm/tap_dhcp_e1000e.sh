#!/bin/bash
# SPDX-License-Identifier: MIT
# vm-run: --nic e1000e,vfio,user --host-http 48M --mem 1024 --timeout 900
#
# tests/vm/tap_dhcp.sh on the 82574L (e1000e, MSI-X): DHCP, gateway ping and a
# download from the host's loopback through vdf-tap, also across driver kills.
exec bash "$(dirname "$0")/tap_dhcp.sh"
