#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build both modules against every kernel in scripts/kernels.list with
# warnings as errors; print kernel / compiler / result. A kernel outside the
# supported range (include/pvlock/kcompat.h) must be refused with pvlock's
# own message: that is checked too, not skipped.
#   matrix.sh [ID...]      results go to $RESULTS (default build/results/matrix.txt)
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/matrix.txt}
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"

ids=("$@")
[ ${#ids[@]} -eq 0 ] && mapfile -t ids < <("$PVLOCK_ROOT/scripts/kernels.sh" list)

# Supported range, read from the one place that defines it.
range=$(sed -nE 's/^#define PVLOCK_KERNEL_(MIN|MAX)\s+KERNEL_VERSION\(([0-9]+), ([0-9]+), [0-9]+\)/\2 \3/p' \
	"$PVLOCK_ROOT/include/pvlock/kcompat.h" | tr '\n' ' ')
read -r min_maj min_min max_maj max_min <<<"$range"
[ -n "$max_min" ] || die "cannot read the supported range from kcompat.h"
vnum() { echo $(( $1 * 1000 + $2 )); }

printf '%-15s %-24s %-8s %-9s %-30s %s\n' KERNEL ABI COMPILER EXPECT RESULT TIME
fails=0
for id in "${ids[@]}"; do
	t0=$(now)
	if ! "$PVLOCK_ROOT/scripts/kernels.sh" fetch "$id" >/dev/null 2>"$PVLOCK_ROOT/build/fetch-$id.log"; then
		printf '%-15s %-24s %-8s %-9s %-30s %s\n' "$id" - - - "FAIL (fetch: see build/fetch-$id.log)" -
		echo "FAIL matrix/$id: fetch failed" >> "$RESULTS"
		fails=$((fails + 1))
		continue
	fi
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$id")
	maj=${ABI%%.*}; rest=${ABI#*.}; mn=${rest%%[.-]*}
	v=$(vnum "$maj" "$mn")
	if [ "$v" -lt "$(vnum "$min_maj" "$min_min")" ] || [ "$v" -gt "$(vnum "$max_maj" "$max_min")" ]; then
		expect=refuse
	else
		expect=ok
	fi
	listed=$(awk -v id="$id" '$1 == id { print $6 }' "$PVLOCK_ROOT/scripts/kernels.list")
	if "$PVLOCK_ROOT/scripts/build-modules.sh" "$id" >/dev/null 2>&1; then
		got=ok
	elif grep -q '#error "pvlock ' "$PVLOCK_ROOT/build/kbuild/$id/build.log"; then
		got=refuse
	else
		got=error
	fi
	cc_ver=$KCC
	if [ "$got" = "$expect" ]; then
		case $got in
		ok) res="PASS (both modules built)" ;;
		refuse) res="PASS (refused: outside range)" ;;
		esac
		echo "PASS matrix/$id: $got as expected" >> "$RESULTS"
	else
		res="FAIL (got $got, expected $expect)"
		echo "FAIL matrix/$id: got $got, expected $expect (build/kbuild/$id/build.log)" >> "$RESULTS"
		fails=$((fails + 1))
	fi
	[ "$listed" != "$expect" ] && res="$res [listed: $listed]"
	printf '%-15s %-24s %-8s %-9s %-30s %ss\n' "$id" "$ABI" "$cc_ver" "$expect" "$res" "$(elapsed "$t0")"
	if [ "$got" = error ]; then
		grep -E 'error' "$PVLOCK_ROOT/build/kbuild/$id/build.log" | head -5 | sed 's/^/    /'
	fi
done
exit $((fails > 0))
