#!/bin/bash
# SPDX-License-Identifier: MIT
# Build every libFuzzer target (tests/fuzz/fuzz_*.c) with ASan+UBSan and run
# each for a bounded time. Prints PASS/FAIL per target. Crashes are kept in
# build/fuzz/work/<target>/crash-*.
#   VDF_FUZZ_SECONDS (default 20): run time per target
set -u
cd "$(dirname "$0")/../.."
secs=${VDF_FUZZ_SECONDS:-20}
out=build/fuzz
mkdir -p "$out"
CFLAGS="-std=gnu17 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
libs=$(ls lib/*/*.c drivers/nvme/*.c manager/*.c 2>/dev/null | grep -v -e 'drivers/nvme/main.c' -e 'manager/vdfd.c')
fails=0

# The code under test is compiled once (instrumented, not linked with the
# fuzzer's main) into one archive that every target links.
rm -rf "$out/obj" && mkdir -p "$out/obj"
if ! printf '%s\n' $libs | xargs -P "$(nproc)" -I{} sh -c \
	'o='"$out"'/obj/$(echo {} | tr / _).o; clang '"$CFLAGS"' -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c {} -o "$o"' \
	2>"$out/libs.build.log"; then
	echo "FAIL: building the libraries for fuzzing (see $out/libs.build.log)"
	exit 1
fi
rm -f "$out/libfuzzed.a"
ar rcs "$out/libfuzzed.a" "$out"/obj/*.o
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$out/bin/$name
	work=$out/work/$name
	mkdir -p "$out/bin" "$work/corpus"
	extra=$(sed -n 's/^ \* fuzz-link: //p' "$src")
	if ! clang $CFLAGS $SAN -o "$bin" "$src" $extra "$out/libfuzzed.a" -ljson-c -lseccomp -lpthread \
		2>"$out/$name.build.log"; then
		echo "FAIL: $name (build, see $out/$name.build.log)"
		fails=$((fails + 1))
		continue
	fi
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	if (cd "$work" && "$OLDPWD/$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 corpus ${seeds:+"$OLDPWD/$seeds"}) >"$out/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
		echo "PASS: $name (${runs:-?} inputs in ${secs}s)"
	else
		echo "FAIL: $name (see $out/$name.log)"
		fails=$((fails + 1))
	fi
done
exit $((fails > 0))
