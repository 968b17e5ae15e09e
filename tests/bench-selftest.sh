#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of the benchmarks' design and statistics, without QEMU: the
# nested benchmarks' round order (tests/qemu/lib/pvtest.sh williams(): a
# Williams design) and its report's steal adjustment (scripts/wl-report.sh) on a
# made-up console whose throughputs follow log(ops/s) = arm - 2 x steal
# exactly, and its leaving out a round in which an L2 died; pooling runs
# (scripts/bench-pool.sh) and its ratio at no steal, each arm its own slope. Prints "PASS bench/<case>" or "FAIL bench/<case>: why" per case
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

# --- pooling runs, and the ratio at no steal ------------------------------
# two made-up nested.csv runs of 6 rounds: stock and stock2 at 100 lose 3 x
# steal in log(ops/s), pvlock at 120 only 1 x steal, the steal per run from
# a fixed list: scripts/bench-pool.sh must pool 12 rounds from 2 runs and
# find 1.200 at no steal (each arm its own slope) and 1.000 for the A/A,
# where one slope for both arms cannot give 1.2; and refuse a file that is
# not a benchmark CSV
hdr="case,vm,round,variant,ops,seconds,ops_per_s,acq_n,acq_p50_ns,acq_p99_ns,acq_p999_ns,acq_max_ns,jain,slowpath,pending,queued,waits,wait_early,halts,yields,yield_same_vm,yield_cross_vm,preempted_seen,threshold,threshold_changes,truth_same_vm,truth_landed,truth_unknown,truth_named_owner,truth_kvm_expected_milli,host_steal,host_boosts_given,host_boosts_ran"
k=0
for f in 1 2; do
	echo "$hdr" > "$T/pool$f.csv"
	for r in 1 2 3 4 5 6; do
		for arm in stock pvlock stock2; do
			case $arm in pvlock) lvl=120 sl=1 ;; *) lvl=100 sl=3 ;; esac
			s=${steals[k % ${#steals[@]}]}
			k=$((k + 1))
			# two VMs, each half the throughput, the same steal
			ops=$(awk -v l="$lvl" -v s="$s" -v b="$sl" 'BEGIN { printf "%.3f", 500 * l * exp(-b * s) }')
			for vm in a b; do
				echo "overcommitted-4x,$vm,$r,$arm,1,20,$ops,1,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,$s,," >> "$T/pool$f.csv"
			done
		done
	done
done
# the first run named in a list (as bench/results/pool-*.list), with comments
printf '# made up\n%s\t# the first run\n\n' "$T/pool1.csv" > "$T/pool.list"
if "$PVLOCK_ROOT/scripts/bench-pool.sh" --list "$T/pool.list" "$T/pool2.csv" > "$T/pool.md" 2> "$T/pool.err"; then
	pv=$(grep '^| overcommitted-4x | pvlock/stock |' "$T/pool.md")
	aa=$(grep '^| overcommitted-4x | stock2/stock |' "$T/pool.md")
	n=$(echo "$pv" | awk -F'|' '{ gsub(/^ | $/, "", $4); print $4 }')
	adj=$(echo "$pv" | awk -F'|' '{ split($6, x, " "); print x[1] }')
	sl=$(echo "$pv" | awk -F'|' '{ gsub(/^ | $/, "", $7); print $7 }')
	free=$(echo "$pv" | awk -F'|' '{ split($8, x, " "); print x[1] }')
	aafree=$(echo "$aa" | awk -F'|' '{ split($8, x, " "); print x[1] }')
	if [ "$n" = "12 (2)" ] && [ "$free" = 1.200 ] && [ "$sl" = "-3.00, -1.00" ] && [ "$aafree" = 1.000 ] &&
	   [ -n "$adj" ] && [ "$adj" != 1.200 ]; then
		ok "pooled-no-steal: 12 rounds of 2 runs pooled; slopes $sl fitted per arm, pvlock/stock at no steal $free (1.2 built in), one slope $adj; A/A $aafree"
	else
		ko pooled-no-steal "rounds '$n' (want 12 (2)), slopes '$sl' (want -3.00, -1.00), at no steal '$free' (want 1.200), one slope '$adj' (want not 1.200), A/A '$aafree' (want 1.000)"
	fi
else
	ko pooled-no-steal "bench-pool.sh failed: $(tail -1 "$T/pool.err")"
fi
echo "level,x" > "$T/notbench.csv"
if "$PVLOCK_ROOT/scripts/bench-pool.sh" "$T/pool1.csv" "$T/notbench.csv" > "$T/bad.md" 2> "$T/bad.err"; then
	ko pool-bad-input "bench-pool.sh took a CSV that is not a benchmark's"
elif grep -q 'notbench.csv: neither a nested.csv nor a workloads.csv' "$T/bad.err" && [ ! -s "$T/bad.md" ]; then
	if "$PVLOCK_ROOT/scripts/bench-pool.sh" "$T/pool1.csv" 0000000:bench/results/nested.csv > "$T/bad2.md" 2> "$T/bad2.err" ||
	   ! grep -q '0000000:bench/results/nested.csv: neither a file nor a REV:PATH' "$T/bad2.err"; then
		ko pool-bad-input "a REV:PATH the repository does not have: $(tail -1 "$T/bad2.err")"
	else
		ok "pool-bad-input: a CSV that is not a benchmark's and a REV:PATH the repository lacks are refused, by name, nothing printed"
	fi
else
	ko pool-bad-input "$(tail -1 "$T/bad.err")"
fi

[ $nfail -eq 0 ]
