#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of the benchmarks' design and statistics, without QEMU: the
# nested benchmarks' round order (tests/qemu/lib/pvtest.sh williams(): a
# Williams design) and its report's steal adjustment (scripts/wl-report.sh) on a
# made-up console whose throughputs follow log(ops/s) = arm - 2 x steal
# exactly, and its leaving out a round in which an L2 died. Prints "PASS bench/<case>" or "FAIL bench/<case>: why" per case
# (make check appends them to build/results/check.txt); exit 1 if any failed.
. "$(dirname "$0")/../scripts/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
nfail=0
ok() { echo "PASS bench/$1"; }
ko() { echo "FAIL bench/$1: $2"; nfail=$((nfail + 1)); }

# --- the round order -----------------------------------------------------
# williams() of lib/pvtest.sh, which orders the rounds of both nested
# benchmarks (wl-l1.sh order, round_arms); with vcpu_sched_diff(), whose
# line the steal-column check below feeds to the report
sed -n '/^williams() {/,/^}/p; /^vcpu_sched_diff() {/,/^}/p' "$PVLOCK_ROOT/tests/qemu/lib/pvtest.sh" > "$T/order.sh"
# shellcheck disable=SC1091
. "$T/order.sh"
# balance ARMS ROUNDS: what is wrong with ROUNDS rounds of ARMS (nothing:
# every arm in every position and right after every other arm within the
# rounds equally often, no arm twice in a round, no round beginning with
# the arm that ended the one before)
balance() {
	for r in $(seq 1 "$2"); do williams "$r" $1; echo; done | awk -v arms="$1" -v nr="$2" '{
		if (NF != split(arms, a, " ")) { print "round " NR " has " NF " arms"; next }
		for (i = 1; i <= NF; i++) { pos[$i, i]++; if (seen[NR, $i]++) print "round " NR " repeats " $i }
		for (i = 2; i <= NF; i++) pair[$(i - 1), $i]++
		if (NR > 1 && prev == $1) print "round " NR " starts with " $1 ", the arm that ended round " NR - 1
		prev = $NF
	}
	END {
		n = split(arms, a, " "); want = nr / n; wp = nr * (n - 1) / (n * (n - 1))
		for (x = 1; x <= n; x++) for (p = 1; p <= n; p++)
			if (pos[a[x], p] != want) print a[x] " in position " p " " pos[a[x], p] + 0 " times in " nr " rounds, want " want
		for (x = 1; x <= n; x++) for (y = 1; y <= n; y++)
			if (x != y && pair[a[x], a[y]] != wp) print a[y] " right after " a[x] " " pair[a[x], a[y]] + 0 " times in " nr " rounds, want " wp
	}'
}
bad=$(balance "none stock pvlock stock2" 8)
if [ -z "$bad" ]; then
	ok "williams-order: $(for r in 1 2 3 4; do williams $r none stock pvlock stock2; echo; done | tr -s ' ' | sed 's/ $//' | paste -sd '|' -)"
else
	ko williams-order "$(echo "$bad" | head -3 | paste -sd ';' -)"
fi
# odd numbers of arms (the nested benchmark's stock, pvlock, stock2, and
# its ablation): 2n rows
bad=$(balance "stock pvlock stock2" 12; balance "stock pvlock stock2 adaptive stockhost" 20)
if [ -z "$bad" ]; then
	ok "williams-order-odd: 3 arms in 12 rounds, 5 in 20 (two cycles each), balanced, no arm after itself"
else
	ko williams-order-odd "$(echo "$bad" | head -3 | paste -sd ';' -)"
fi

# --- the steal adjustment ------------------------------------------------
# two workloads' worth of made-up runs: arm levels 100 (stock, stock2), 110
# (pvlock), 90 (none); steal per run from a fixed list; log(ops/s) =
# log(level) - 2 x steal. Raw A/A then differs from 1, adjusted it is 1.
log=$T/con.log
: > "$log"; : > "$log.steal"
st=0 tot=0 seq=0
steals=(0.02 0.15 0.05 0.30 0.01 0.10 0.08 0.22 0.04 0.12 0.18 0.03)
k=0
for r in 1 2 3 4 5 6 7 8; do
	for arm in none stock pvlock stock2; do
		case $arm in none) lvl=90 ;; pvlock) lvl=110 ;; *) lvl=100 ;; esac
		s=${steals[k % ${#steals[@]}]}
		k=$((k + 1)) seq=$((seq + 1))
		ops=$(awk -v l="$lvl" -v s="$s" 'BEGIN { printf "%d", 1000 * l * exp(-2 * s) }')
		line="PVLOCK-WLRUN level=under round=$r arm=$arm wl=syn seq=$seq t=0"
		echo "$line" >> "$log"
		echo "$st $tot|$line" >> "$log.steal"
		# 10000 ticks in the run, s of them stolen
		tot=$((tot + 10000)) st=$((st + $(awk -v s="$s" 'BEGIN { printf "%d", s * 10000 }')))
		echo "[L2:a] PVLOCK-WL vm=a seq=$seq wl=syn arm=$arm ops=$ops cs=100 stats={}" >> "$log"
		echo "$st $tot|[L2:a] PVLOCK-MARK done-$seq" >> "$log.steal"
		# the L1's view of the vCPU threads (vcpu_sched_diff of two made-up
		# snapshots: 5000 ms run, 120 ms waiting, 300 slices over VM a's two
		# vCPUs; VM b's second vCPU unreadable), for the first run only
		[ $seq = 1 ] && echo "PVLOCK-WLSCHED seq=1$(vcpu_sched_diff \
			"a:0=1000000,0,10 a:1=0,0,0 b:0=1,1,1 b:1=- kvm=1,1,1" \
			"a:0=3000000000,100000000,210 a:1=2001000000,20000000,100 b:0=2,2,2 b:1=- kvm=5,9,3")" >> "$log"
	done
done
if "$PVLOCK_ROOT/scripts/wl-report.sh" "$log" "$T/out" "made up" > "$T/rep.err" 2>&1; then
	row=$(sed -n '/adjusted for this build machine/,/^$/d; /^| under | 8 | [0-9.]*% /p' "$T/out/workloads.md")
	raw=$(grep -m1 '^| under | 8 | [0-9]' "$T/out/workloads.md")
	b=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $5); print $5 }')
	r2=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $6); print $6 }')
	aa=$(echo "$row" | awk -F'|' '{ split($9, x, " "); print x[1] }')
	ps=$(echo "$row" | awk -F'|' '{ split($8, x, " "); print x[1] }')
	rawaa=$(echo "$raw" | awk -F'|' '{ split($6, x, " "); print x[1] }')
	if [ "$b" = -2.00 ] && [ "$r2" = 1.00 ] && [ "$aa" = 1.000 ] && [ "$ps" = 1.100 ] &&
	   [ "$rawaa" != 1.000 ]; then
		ok "steal-adjustment: b $b, R^2 $r2 fitted; A/A raw $rawaa, adjusted $aa; pvlock/stock adjusted $ps (1.1 built in)"
	else
		ko steal-adjustment "b '$b' R^2 '$r2' A/A raw '$rawaa' adjusted '$aa' pvlock/stock '$ps' (want -2.00, 1.00, not 1.000, 1.000, 1.100)"
	fi
	if grep -q '^under,1,none,syn,a,1,.*,0.0200,5000,120,300$' "$T/out/workloads.csv" &&
	   grep -q '^under,1,stock,syn,a,2,.*,0.1500,,,$' "$T/out/workloads.csv"; then
		ok "steal-column: each run's share from the steal log; the vCPU threads' run/wait/slices where the L1 logged them, empty where not"
	else
		ko steal-column "$(sed -n 2,3p "$T/out/workloads.csv" | paste -sd ' ' -)"
	fi
else
	ko steal-adjustment "wl-report.sh failed: $(tail -1 "$T/rep.err")"
fi

# --- a dropped round ------------------------------------------------------
# the same console, round 3 marked dropped (an L2 died in it: wl-l1.sh
# revive) and its pvlock run made 100 times slower: none of round 3 may
# reach the CSV or the ratios, and the report must say it left it out
sed 's/^\(\[L2:a\] PVLOCK-WL vm=a seq=11 .* ops=\)\([0-9]*\)\([0-9][0-9]\) /\1\2 /' "$log" > "$T/drop.log"
cp "$log.steal" "$T/drop.log.steal"
echo "PVLOCK-WLDROP level=under round=3 vm=a arm=pvlock" >> "$T/drop.log"
if ! grep -q 'seq=11 wl=syn arm=pvlock' "$T/drop.log" || cmp -s "$log" "$T/drop.log"; then
	ko dropped-round "the made-up console has no round 3 pvlock run to spoil"
elif "$PVLOCK_ROOT/scripts/wl-report.sh" "$T/drop.log" "$T/drop" "made up" > "$T/drop.err" 2>&1; then
	left=$(grep -c '^under,3,' "$T/drop/workloads.csv")
	others=$(grep -c '^under,[1245678],' "$T/drop/workloads.csv")
	# the ratio table must be the one of a console that never had round 3
	# (its runs are seq 9-12)
	grep -v -E '(seq=|done-)(9|10|11|12)( |$)' "$log" > "$T/no3.log"
	grep -v -E '(seq=|done-)(9|10|11|12)( |$)' "$log.steal" > "$T/no3.log.steal"
	"$PVLOCK_ROOT/scripts/wl-report.sh" "$T/no3.log" "$T/no3" "made up" > /dev/null 2>&1
	ratios() { sed -n '/^| level | rounds | pvlock\/none/,/^$/p' "$1" | grep '^| under |'; }
	got=$(ratios "$T/drop/workloads.md") want=$(ratios "$T/no3/workloads.md")
	n=$(echo "$got" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
	said=$(grep -c 'under round 3 (VM a died while arm pvlock' "$T/drop/workloads.md")
	if [ "$left" = 0 ] && [ "$others" = 28 ] && [ "$said" = 1 ] && [ "$n" = 7 ] && [ -n "$want" ] &&
	   [ "$got" = "$want" ]; then
		ok "dropped-round: round 3 left out (7 rounds, 28 runs), said in the report, ratios as without it"
	else
		ko dropped-round "round 3 rows $left (want 0), other rows $others (want 28), said $said (want 1), rounds '$n' (want 7), ratios '$got' (want '$want')"
	fi
else
	ko dropped-round "wl-report.sh failed: $(tail -1 "$T/drop.err")"
fi

[ $nfail -eq 0 ]
