#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sum result files ("PASS name", "FAIL name: why", "RETRY name: why" and
# "NOTE name: what" lines, scripts/qemu-run.sh's) and print the closing line
# "N passed, N failed, N retried, N notes". A retried run is one whose first
# attempt a fault outside pvlock disturbed (its second attempt's results are
# the ones counted); a note is something a reader should see that failed
# nothing. Exit 1 if anything failed or nothing ran.
#   tally.sh [-q] FILE...     (-q: do not list failures, retries and notes)
quiet=0
[ "${1:-}" = -q ] && { quiet=1; shift; }
pass=0 fail=0 retry=0 note=0
for f in "$@"; do
	[ -f "$f" ] || continue
	pass=$((pass + $(grep -c '^PASS ' "$f")))
	fail=$((fail + $(grep -c '^FAIL ' "$f")))
	retry=$((retry + $(grep -c '^RETRY ' "$f")))
	note=$((note + $(grep -c '^NOTE ' "$f")))
	[ "$quiet" = 1 ] || grep -E '^(FAIL|RETRY|NOTE) ' "$f" | sed 's/^/  /'
done
echo "$pass passed, $fail failed, $retry retried, $note notes"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
