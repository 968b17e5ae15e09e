#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested benchmark: in one L1 boot (TCG, kvm_amd), two L2 VMs of 2 vCPUs on
# one of the L1's 2 vCPUs (4x overcommitted), then one alone (undercommitted), run
# a lock-heavy kernel workload (pvlock_lockbench), stock and pvlock (guest
# adaptive + pvlock_host [+ pvlockd]) alternating in ABBA rounds. Writes
# OUTDIR/nested.csv and nested.md: throughput per VM and round, the ratio
# pvlock/stock with min/median/max, lock wait percentiles from the guest's
# histogram.
#   bench-nested.sh [OUTDIR]   (default bench/results)
#   BENCH_KERNEL=6.12-bookworm PVLOCK_BENCH_ROUNDS=5 PVLOCK_BENCH_SECS=20
#   PVLOCK_BENCH_UNDER=1 (0: skip the undercommitted case)
#   PVLOCK_BENCH_VERBOSE=1 (show the L1/L2 progress lines)
#   PVLOCK_BENCH_SHOW=SECS (first, pvlock on and its counters every 10 s: the demo)
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

out=${1:-$PVLOCK_ROOT/bench/results}
kid=${BENCH_KERNEL:-6.12-bookworm}
rounds=${PVLOCK_BENCH_ROUNDS:-5}
secs=${PVLOCK_BENCH_SECS:-20}
under=${PVLOCK_BENCH_UNDER:-1}
mkdir -p "$out"
make -s -C "$PVLOCK_ROOT/daemon" >/dev/null || die "building pvlockctl/pvlockd failed"
prepare_tools
prepare_kernel "$kid"
KO_BENCH=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_lockbench) || die "pvlock_lockbench"
l2=$INITRD_DIR/bench-nested-l2-$kid.cpio.gz
l1=$INITRD_DIR/bench-nested-l1-$kid.cpio.gz
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/bench-l2.sh" \
	-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_BENCH=/bench/pvlock_lockbench.ko" \
	-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
l1_bins=(-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq)
[ -x "$PVLOCK_ROOT/build/daemon/pvlockd" ] && l1_bins+=(-b "$PVLOCK_ROOT/build/daemon/pvlockd")
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/bench-nested-l1.sh" \
	-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" \
	-f "$KO_HOST=/pvlock/pvlock_host.ko" "${l1_bins[@]}" || die "L1 initramfs"

phases=$((1 + under))
show=${PVLOCK_BENCH_SHOW:-0}
budget=$((phases * rounds * 2 * (secs + 40) + show + 400))
RESULTS=$PVLOCK_ROOT/build/results/bench-nested.txt
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
v=()
[ "${PVLOCK_BENCH_VERBOSE:-0}" = 1 ] && v=(-v)
"$PVLOCK_ROOT/scripts/qemu-run.sh" "${v[@]}" -n "bench-nested-$kid" -k "$kid" -i "$l1" -s 2 -m 4096 -c max \
	-t "$budget" -a "PVLOCK_BENCH_ROUNDS=$rounds PVLOCK_BENCH_SECS=$secs PVLOCK_BENCH_UNDER=$under PVLOCK_BENCH_SHOW=$show" ||
	msg "the benchmark run reported failures (see $RESULTS)"
log=$PVLOCK_ROOT/build/logs/bench-nested-$kid.log

# one CSV row per measured run
csv=$out/nested.csv
echo "case,vm,round,variant,ops,seconds,ops_per_s,yields,yield_same_vm,yield_cross_vm,halts,p50_ns,p90_ns,p99_ns" > "$csv"
grep -E '^\[L2:[a-z]+\] PVLOCK-BENCH ' "$log" | sed 's/^\[L2:[a-z]*\] //' |
while read -r _ vm round variant ops ns stats; do
	vm=${vm#vm=} round=${round#round=} variant=${variant#variant=}
	ops=${ops#ops=} ns=${ns#ns=} stats=${stats#stats=}
	[ "${ns:-0}" -gt 0 ] || continue
	case $vm in solo) c=undercommitted ;; *) c=overcommitted-4x ;; esac
	# wait-time percentiles: the upper edge 2^(i+1) ns of the histogram bucket
	pct=$(echo "$stats" | jq -r '.hist as $h | ($h | add) as $n |
		[0.5, 0.9, 0.99] | map(. as $p | ([foreach $h[] as $x (0; . + $x)] |
		map(select(. >= $p * $n)) | length) as $above | ($h | length) - $above) |
		map(if $n > 0 then pow(2; . + 1) else 0 end) | map(floor) | join(",")')
	echo "$stats" | jq -r --arg c "$c" --arg vm "$vm" --arg r "$round" --arg v "$variant" \
		--arg ops "$ops" --arg ns "$ns" --arg pct "$pct" \
		'[$c, $vm, $r, $v, $ops, ($ns | tonumber / 1e9 | tostring),
		  (($ops | tonumber) / ($ns | tonumber / 1e9) | floor | tostring),
		  .yields, .yield_same_vm, .yield_cross_vm, .halts, $pct] | join(",")'
done >> "$csv"

# ratios per round: pvlock / stock of the summed throughput of the case's VMs
awk -F, -v rounds="$rounds" -v secs="$secs" -v abi="$ABI" -v kid="$kid" \
    -v host="$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    -v rev="$(git -C "$PVLOCK_ROOT" describe --always --dirty 2>/dev/null)" '
NR > 1 { t[$1, $3, $4] += $7; cases[$1] = 1; if ($3 > n) n = $3
	 for (i = 12; i <= 14; i++) p[$1, $4, i] = p[$1, $4, i] > $i ? p[$1, $4, i] : $i }
function sort(a, k,   i, j, x) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
	if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x } }
END {
	print "## Nested benchmark: pvlock vs stock"
	print ""
	print "Kernel " abi " (" kid ") in L1 (TCG, -cpu max, 2 vCPUs) and L2 (KVM, 2 vCPUs each; the"
	print "overcommitted pair shares one L1 vCPU, 4 vCPUs on 1; the solo VM has both);"
	print "host: " host "; pvlock " rev "."
	print "Workload: pvlock_lockbench (one spinlock, 2 threads per vCPU, 2 us inside, 4 us outside),"
	print secs " s per run, " rounds " rounds, ABBA order; throughput summed over the case'"'"'s VMs."
	print ""
	print "| case | round | stock ops/s | pvlock ops/s | pvlock/stock |"
	print "|---|---|---|---|---|"
	for (c in cases) {
		k = 0
		for (r = 1; r <= n; r++) {
			s = t[c, r, "stock"]; q = t[c, r, "pvlock"]
			if (s > 0 && q > 0) { ratio[++k] = q / s; printf "| %s | %d | %.0f | %.0f | %.3f |\n", c, r, s, q, q / s }
		}
		sort(ratio, k)
		med = k % 2 ? ratio[(k + 1) / 2] : (ratio[k / 2] + ratio[k / 2 + 1]) / 2
		if (k) summary[c] = sprintf("| %s | %d | %.3f | %.3f | %.3f |", c, k, ratio[1], med, ratio[k])
		waits[c] = sprintf("| %s | %s / %s / %s | %s / %s / %s |", c,
			p[c, "stock", 12], p[c, "stock", 13], p[c, "stock", 14],
			p[c, "pvlock", 12], p[c, "pvlock", 13], p[c, "pvlock", 14])
		delete ratio
	}
	print ""
	print "| case | rounds | min | median | max |"
	print "|---|---|---|---|---|"
	for (c in summary) print summary[c]
	print ""
	print "Lock wait time, worst round (ns, upper edge of the log2 bucket): p50 / p90 / p99"
	print ""
	print "| case | stock | pvlock |"
	print "|---|---|---|"
	for (c in waits) print waits[c]
}' "$csv" | tee "$out/nested.md"
