# SPDX-License-Identifier: MIT
# Shared helpers of the guest scenarios that run vdfd (sourced, not run).
# The caller sets B (binaries), sock (vdfd's control socket) and addr (the
# device the checks are about) before using the vdfd helpers.

fails=0
pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ctl() { timeout 20 $B/vdfctl --socket "$sock" "$@"; }
# jq-like field access with the standard library only
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds
	local t=$(($1 * 10))
	shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
state_is() { [ "$(ctl --json stats "$addr" | field "['drivers'][0]['state']")" = "$1" ]; }
driver_pid() { ctl --json stats "$addr" | field "['drivers'][0]['pid']"; }

pyping() { timeout 60 python3 tests/vm/lib/pyping.py "$@"; } # pyping COUNT ADDR

# start_vdfd_crashtest [DRIVER [VDFD OPTIONS...]]: vdfd running DRIVER (default
# nvme) from its manifest, with a restart budget large enough for kill loops
# (the shipped manifests give up after 5 crashes in a minute, as they should
# in production) and short backoffs; waits until the driver runs. Returns 1
# if it does not.
start_vdfd_crashtest() {
	local drv=${1:-nvme}
	[ $# -gt 0 ] && shift
	mkdir -p /tmp/manifests
	sed -e 's/"max_restarts": *[0-9]*/"max_restarts": 1000/' \
		-e 's/"backoff_initial_ms": *[0-9]*/"backoff_initial_ms": 50/' \
		-e 's/"backoff_max_ms": *[0-9]*/"backoff_max_ms": 500/' \
		drivers/$drv/$drv.manifest >/tmp/manifests/$drv.manifest
	$B/vdfd --manifests /tmp/manifests --bindir "$PWD/$B" --socket "$sock" "$@" 2>/tmp/vdfd.log &
	vdfd=$!
	if wait_for 60 state_is running; then
		pass "$drv driver running under vdfd ($addr)"
	else
		fail "$drv driver not running: $(tail -5 /tmp/vdfd.log)"
		return 1
	fi
}
