#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Everything CI runs, stage by stage, each timed; a failing stage does not
# stop the others. Closes with the kernels booted (exact version and
# compilers) and each QEMU run's result and time, the stage times, and on
# its last line the total over every stage:
# "N passed, N failed, N retried, N notes" (scripts/tally.sh).
#   PVLOCK_TEST_SET=full    the QEMU tests' full set (make test-full; see
#                           tests/qemu/common.sh)
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

R=$PVLOCK_ROOT/build/results
mkdir -p "$R"
rm -f "$R"/*.txt "$R"/*.runs
T0=$(now)
declare -a TIMES

stage() {	# name "results-file..." command...
	local name=$1 files=$2 file t0 rc qemu
	shift 2
	file=${files%% *}	# stage failures are recorded in the first file
	t0=$(now)
	echo "=== stage $name"
	"$@"
	rc=$?
	# shellcheck disable=SC2086
	if ! cat $files 2>/dev/null | grep -q .; then
		echo "FAIL stage/$name: produced no results (exit $rc)" >> "$file"
	elif [ $rc -ne 0 ] && ! cat $files | grep -q '^FAIL'; then
		echo "FAIL stage/$name: exited $rc" >> "$file"
	fi
	# the QEMU runs' own time: the stage's minus the waits for the QEMU lock
	qemu=$(awk -F'\t' '$5 != "-" { s += $5; n++ } END { if (n) printf "QEMU %.0fs in %d runs", s, n }' \
		"${file%.txt}.runs" 2>/dev/null)
	# shellcheck disable=SC2086
	TIMES+=("$(printf '%-12s %7ss  %-26s %s' "$name" "$(elapsed "$t0")" "$("$PVLOCK_ROOT/scripts/tally.sh" -q $files)" "$qemu")")
}

stage deps "$R/deps.txt" bash -c "'$PVLOCK_ROOT/scripts/deps.sh' && echo 'PASS deps/installed' > '$R/deps.txt' || { echo 'FAIL deps/installed' > '$R/deps.txt'; false; }"
stage check "$R/check.txt $R/sim.txt" make -s -C "$PVLOCK_ROOT" check
stage matrix "$R/matrix.txt" "$PVLOCK_ROOT/scripts/matrix.sh"
# the matrix resolved every kernel; the QEMU stages boot those same ones
pin_kernels
# what the QEMU stages boot, fetched up front (on a cold cache this stage
# carries the downloads: images, locktorture's sources, the QEMU chroot)
kernels() {
	local kid ok=0
	for kid in $TEST_KERNELS; do
		if "$PVLOCK_ROOT/scripts/kernels.sh" fetch -i -s "$kid" &&
		   "$PVLOCK_ROOT/scripts/build-locktorture.sh" "$kid" >/dev/null; then
			echo "PASS kernels/$kid: $("$PVLOCK_ROOT/scripts/kernels.sh" describe "$kid")" >> "$R/kernels.txt"
		else
			echo "FAIL kernels/$kid: fetching it or building locktorture failed" >> "$R/kernels.txt"
			ok=1
		fi
	done
	if "$PVLOCK_ROOT/scripts/kernels.sh" qemu >/dev/null; then
		echo "PASS kernels/qemu: $("$PVLOCK_ROOT/scripts/kernels.sh" qemu)" >> "$R/kernels.txt"
	else
		echo "FAIL kernels/qemu: no QEMU chroot" >> "$R/kernels.txt"
		ok=1
	fi
	return $ok
}
stage kernels "$R/kernels.txt" kernels
stage test-guest "$R/test-guest.txt" "$PVLOCK_ROOT/tests/qemu/test-guest.sh"
stage test-nested "$R/test-nested.txt" "$PVLOCK_ROOT/tests/qemu/test-nested.sh"

echo
echo "=== kernels booted ($PVLOCK_TEST_SET set) and their runs"
runs_summary "$R"/test-guest.runs "$R"/test-nested.runs
echo
echo "=== stage times"
printf '%s\n' "${TIMES[@]}"
printf '%-12s %7ss\n' total "$(elapsed "$T0")"
echo
echo "=== failures"
"$PVLOCK_ROOT/scripts/tally.sh" "$R"/*.txt
