#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Everything CI runs, stage by stage, each timed; a failing stage does not
# stop the others. The last line is the total over every stage:
# "N passed, N failed, N retried, N notes" (scripts/tally.sh).
. "$(dirname "$0")/lib.sh"

R=$PVLOCK_ROOT/build/results
mkdir -p "$R"
rm -f "$R"/*.txt
T0=$(now)
declare -a TIMES

stage() {	# name "results-file..." command...
	local name=$1 files=$2 file t0 rc
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
	# shellcheck disable=SC2086
	TIMES+=("$(printf '%-12s %7ss  %s' "$name" "$(elapsed "$t0")" "$("$PVLOCK_ROOT/scripts/tally.sh" -q $files)")")
}

stage deps "$R/deps.txt" bash -c "'$PVLOCK_ROOT/scripts/deps.sh' && echo 'PASS deps/installed' > '$R/deps.txt' || { echo 'FAIL deps/installed' > '$R/deps.txt'; false; }"
stage check "$R/check.txt $R/sim.txt" make -s -C "$PVLOCK_ROOT" check
stage matrix "$R/matrix.txt" "$PVLOCK_ROOT/scripts/matrix.sh"
stage test-guest "$R/test-guest.txt" "$PVLOCK_ROOT/tests/qemu/test-guest.sh"
stage test-nested "$R/test-nested.txt" "$PVLOCK_ROOT/tests/qemu/test-nested.sh"

echo
echo "=== stage times"
printf '%s\n' "${TIMES[@]}"
printf '%-12s %7ss\n' total "$(elapsed "$T0")"
echo
echo "=== failures"
"$PVLOCK_ROOT/scripts/tally.sh" "$R"/*.txt
