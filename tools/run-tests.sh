#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/run-tests.sh - run every VDF test and count the results.
#
# Runs, in this order:
#   1. every unit test binary in $BUILD/tests/test_* (cmocka);
#   2. the same tests built with ASan+UBSan, $BUILD/san/tests/test_*;
#   3. unless VDF_SKIP_VM=1, every guest scenario tests/vm/*.sh through vm/run.
#      A scenario names the vm/run options it needs in a header comment line:
#          # vm-run: --nvme vfio --nvme kernel
#      (options are split on whitespace; several such lines add up);
#   4. unless VDF_SKIP_FUZZ=1 (default: the value of VDF_SKIP_VM), tests/fuzz/run.sh
#      when it exists.
#
# Counting: a cmocka binary counts its test cases (from its summary lines); one
# that crashes or exits non-zero without reporting a failure counts at least one
# failure. A scenario (or the fuzz script) counts one pass or one failure by its
# exit status, unless it prints "PASS: name" / "FAIL: name" lines, in which case
# those are counted (plus one failure for a non-zero exit without a FAIL line).
#
# Prints one line per binary/scenario and ends with exactly "N passed, N failed".
# Exits non-zero if anything failed or nothing ran. Logs: $BUILD/test-logs/.
#
# usage: tools/run-tests.sh [NAME...]   (only run tests whose name contains NAME)
#
# Environment: BUILD (default build), VDF_SKIP_VM=1, VDF_SKIP_FUZZ=1,
# VDF_TEST_TIMEOUT (seconds per unit binary, default 600),
# VDF_VM_TIMEOUT (seconds per scenario, on top of vm/run's own, default 1800).
set -uo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." || exit 2

BUILD=${BUILD:-build}
LOGDIR=$BUILD/test-logs
SKIP_VM=${VDF_SKIP_VM:-0}
SKIP_FUZZ=${VDF_SKIP_FUZZ:-$SKIP_VM}
UNIT_TIMEOUT=${VDF_TEST_TIMEOUT:-600}
VM_TIMEOUT=${VDF_VM_TIMEOUT:-1800}
FILTERS=("$@")

total_pass=0
total_fail=0
ran=0

mkdir -p "$LOGDIR" || exit 2

selected() {
	local name=$1 f
	[ "${#FILTERS[@]}" -eq 0 ] && return 0
	for f in "${FILTERS[@]}"; do
		[[ $name == *"$f"* ]] && return 0
	done
	return 1
}

# describe_status RC: a few words about an exit status.
describe_status() {
	local rc=$1
	if [ "$rc" -eq 124 ]; then
		echo "timed out"
	elif [ "$rc" -gt 128 ]; then
		echo "killed by signal $((rc - 128))"
	else
		echo "exit status $rc"
	fi
}

# report LABEL PASSED FAILED NOTE LOG: print the per-test line and add up.
report() {
	local label=$1 p=$2 f=$3 note=$4 log=$5 verdict=PASS
	[ "$f" -gt 0 ] && verdict=FAIL
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	ran=$((ran + 1))
	if [ "$verdict" = PASS ]; then
		printf '%s  %-40s %d passed%s\n' "$verdict" "$label" "$p" "${note:+ ($note)}"
	else
		printf '%s  %-40s %d passed, %d failed%s; log: %s\n' "$verdict" "$label" "$p" "$f" \
			"${note:+ ($note)}" "$log"
	fi
}

# Count the cases of one cmocka run from its log. cmocka prints the summary
# partly on stdout and partly on stderr, so the lines may be out of order: only
# totals are used. Prints "PASSED FAILED COMPLETE" (COMPLETE=0: a group never
# reached its summary, i.e. the binary died mid-run).
count_cmocka() {
	awk '
	{ sub(/\r$/, "") }
	/^\[==========\] Running [0-9]+ test\(s\)\./ { groups++; expected += $3 }
	/^\[==========\] [0-9]+ test\(s\) run\./     { runs++; run += $2 }
	/^\[  PASSED  \] [0-9]+ test\(s\)\./         { summaries++; passed += $4 }
	/^\[  FAILED  \] [0-9]+ test\(s\)/           { failed += $4 }
	/^\[  SKIPPED \] [0-9]+ test\(s\)/           { skipped += $4 }
	/^ [0-9]+ FAILED TEST\(S\)/                  { failed_all += $1 }
	/^\[       OK \] /                           { ok++ }
	END {
		complete = (groups > 0 && groups == runs && runs == summaries)
		if (complete) {
			f = failed
			if (failed_all > f) f = failed_all
			if (run - passed - skipped > f) f = run - passed - skipped
			printf "%d %d 1\n", passed, f
		} else {
			# Died mid-run: what printed OK passed; the rest did not.
			f = expected - ok - skipped
			if (f < 1) f = 1
			printf "%d %d 0\n", ok, f
		}
	}' "$1"
}

run_unit() {
	local bin=$1 kind=$2 name log rc p f complete note=''
	name=$(basename "$bin")
	log=$LOGDIR/$kind-$name.log
	# The braces keep bash's "Aborted"/"Segmentation fault" notices out of the
	# summary; the log has the details.
	{
		if [ "$kind" = san ]; then
			# Options from the caller's environment come last, so they win.
			ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
				UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
				CMOCKA_MESSAGE_OUTPUT=stdout \
				timeout -k 10 "$UNIT_TIMEOUT" "$bin" </dev/null >"$log" 2>&1
		else
			CMOCKA_MESSAGE_OUTPUT=stdout \
				timeout -k 10 "$UNIT_TIMEOUT" "$bin" </dev/null >"$log" 2>&1
		fi
	} 2>/dev/null
	rc=$?
	if grep -q '^\[==========\] Running' "$log"; then
		read -r p f complete < <(count_cmocka "$log")
		note=
		if [ "$complete" -eq 0 ]; then
			note="did not finish: $(describe_status "$rc")"
		elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			# e.g. a leak report at exit after every case passed
			f=1
			note="$(describe_status "$rc") after all cases passed"
		fi
	elif [ "$rc" -eq 0 ]; then
		p=1 f=0 note="not a cmocka binary"
	else
		p=0 f=1 note="no test output, $(describe_status "$rc")"
	fi
	report "$kind/$name" "$p" "$f" "$note" "$log"
}

# Count a script's result from its log and exit status: PASS:/FAIL: lines if
# any, else the exit status.
count_script() {
	local log=$1 rc=$2 p f
	p=$(tr -d '\r' <"$log" | grep -cE '^[[:space:]]*PASS: ')
	f=$(tr -d '\r' <"$log" | grep -cE '^[[:space:]]*FAIL: ')
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		if [ "$rc" -eq 0 ]; then
			p=1
		else
			f=1
		fi
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	echo "$p $f"
}

# The vm/run options a scenario asks for in its "# vm-run:" header lines.
vm_options() {
	sed -n 's/^#[[:space:]]*vm-run:[[:space:]]*//p' "$1" | tr -d '\r'
}

run_vm() {
	local script=$1 name log rc p f note='' line
	local -a opts=() words
	name=$(basename "$script" .sh)
	log=$LOGDIR/vm-$name.log
	while IFS= read -r line; do
		read -ra words <<<"$line"
		opts+=("${words[@]}")
	done < <(vm_options "$script")
	{
		printf '$ vm/run'
		printf ' %q' "${opts[@]}" "$script"
		printf '\n'
	} >"$log"
	{ timeout -k 30 "$VM_TIMEOUT" vm/run "${opts[@]}" "$script" </dev/null >>"$log" 2>&1; } 2>/dev/null
	rc=$?
	read -r p f < <(count_script "$log" "$rc")
	case $rc in
	0) ;;
	125) note="vm/run harness failure (125)" ;;
	*) note=$(describe_status "$rc") ;;
	esac
	report "vm/$name" "$p" "$f" "$note" "$log"
}

run_fuzz() {
	local log=$LOGDIR/fuzz.log rc p f note=''
	{ timeout -k 30 "$VM_TIMEOUT" bash tests/fuzz/run.sh </dev/null >"$log" 2>&1; } 2>/dev/null
	rc=$?
	read -r p f < <(count_script "$log" "$rc")
	[ "$rc" -ne 0 ] && note=$(describe_status "$rc")
	report "fuzz/run.sh" "$p" "$f" "$note" "$log"
}

# 1, 2: unit tests, plain then sanitized.
for kind in unit san; do
	if [ "$kind" = unit ]; then dir=$BUILD/tests; else dir=$BUILD/san/tests; fi
	for bin in "$dir"/test_*; do
		if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
			continue
		fi
		selected "$(basename "$bin")" || continue
		run_unit "$bin" "$kind"
	done
done

# 3: guest scenarios.
if [ "$SKIP_VM" != 1 ]; then
	for script in tests/vm/*.sh; do
		[ -f "$script" ] || continue
		selected "$(basename "$script" .sh)" || continue
		if [ ! -x vm/run ]; then
			report "vm/$(basename "$script" .sh)" 0 1 "vm/run is missing" "-"
			continue
		fi
		run_vm "$script"
	done
fi

# 4: fuzzing smoke run.
if [ "$SKIP_FUZZ" != 1 ] && [ -f tests/fuzz/run.sh ] && selected fuzz; then
	run_fuzz
fi

if [ "$ran" -eq 0 ]; then
	echo "no tests found (build them first: make all $BUILD/san/tests/...)" >&2
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ $((total_pass + total_fail)) -gt 0 ]
