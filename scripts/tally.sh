#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sum result files ("PASS name" / "FAIL name: why" lines) and print the
# closing line "N passed, N failed". Exit 1 if anything failed or nothing ran.
#   tally.sh [-q] FILE...     (-q: do not list the failures)
quiet=0
[ "${1:-}" = -q ] && { quiet=1; shift; }
pass=0 fail=0
for f in "$@"; do
	[ -f "$f" ] || continue
	p=$(grep -c '^PASS ' "$f")
	q=$(grep -c '^FAIL ' "$f")
	pass=$((pass + p)) fail=$((fail + q))
	[ "$quiet" = 1 ] || grep '^FAIL ' "$f" | sed 's/^/  /'
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
