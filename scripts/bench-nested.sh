#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested benchmark: in one L1 boot (TCG, kvm_amd), two L2 VMs of 2 vCPUs on
# one of the L1's 2 vCPUs (4x overcommitted), then one alone (undercommitted), run
# a lock-heavy kernel workload (pvlock_lockbench), stock and pvlock (guest
# adaptive + pvlock_host [+ pvlockd]) in rounds of a Williams order. Writes
# OUTDIR/nested.csv and nested.md: throughput per VM and round, the ratio
# pvlock/stock with min/median/max, lock wait percentiles from the guest's
# histogram.
#   bench-nested.sh [OUTDIR]   (default bench/results)
#   BENCH_KERNEL=6.12-bookworm PVLOCK_BENCH_ROUNDS=5 PVLOCK_BENCH_SECS=20
#   PVLOCK_BENCH_UNDER=1 (0: skip the undercommitted case)
#   PVLOCK_BENCH_OVER=1 (0: skip the overcommitted case)
#   PVLOCK_BENCH_ARMS=stock,pvlock,stock2: the arms, in the first round's
#     order (then a Williams design: williams in tests/qemu/lib/pvtest.sh);
#     stock2 is stock again (A/A: the instrument's own noise); ablation
#     arms (tests/qemu/bench-l2.sh): adaptive (guest only), stockhost (host
#     side only), stocknod (pvlock_host alone under a stock-mode guest),
#     nodaemon (no pvlockd), nocross (pvlock with the host's cross_vm off:
#     no yields to other VMs).
#     Each arm but stock and pvlock gets a ratio to stock in the same rounds.
#   PVLOCK_BENCH_VERBOSE=1 (show the L1/L2 progress lines)
#   PVLOCK_BENCH_SHOW=SECS (first, pvlock on and its counters every 10 s: the demo)
#   PVLOCK_BENCH_LOG="FILE...": no run, only the report from an earlier run's
#     console logs (build/logs/bench-nested-KID.log, bench-nested-under-KID.log)
#   PVLOCK_BENCH_REAL=WL: also run real workload WL (tests/qemu/lib/wl.sh) in
#     each run, after the lock benchmark (the demo: sysbench)
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

out=${1:-$PVLOCK_ROOT/bench/results}
kid=${BENCH_KERNEL:-6.12-trixie}
rounds=${PVLOCK_BENCH_ROUNDS:-5}
secs=${PVLOCK_BENCH_SECS:-20}
under=${PVLOCK_BENCH_UNDER:-1}
over=${PVLOCK_BENCH_OVER:-1}
arms=${PVLOCK_BENCH_ARMS:-stock,pvlock,stock2}
case ",$arms," in
*,stock,*pvlock,*|*,pvlock,*stock,*) ;;
*) die "PVLOCK_BENCH_ARMS=$arms: stock and pvlock must be among the arms" ;;
esac
for a in $(echo "$arms" | tr , ' '); do
	case $a in
	stock|pvlock|stock2|adaptive|stockhost|stocknod|nodaemon|nocross) ;;
	*) die "PVLOCK_BENCH_ARMS: unknown arm '$a' (stock, pvlock, stock2, adaptive, stockhost, stocknod, nodaemon, nocross)" ;;
	esac
done
narms=$(echo "$arms" | tr , '\n' | wc -l)
[ $((over + under)) -ge 1 ] || die "PVLOCK_BENCH_OVER=0 and PVLOCK_BENCH_UNDER=0: nothing to run"
mkdir -p "$out"
if [ -n "${PVLOCK_BENCH_LOG:-}" ]; then
	log=$PVLOCK_BENCH_LOG
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$kid")
else
make -s -C "$PVLOCK_ROOT/daemon" >/dev/null || die "building pvlockctl/pvlockd failed"
prepare_tools
ple_qemu
prepare_kernel "$kid"
KO_BENCH=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_lockbench) || die "pvlock_lockbench"
l2=$INITRD_DIR/bench-nested-l2-$kid.cpio.gz
l1=$INITRD_DIR/bench-nested-l1-$kid.cpio.gz
real=${PVLOCK_BENCH_REAL:-}
wl=()
if [ -n "$real" ]; then
	WL_ROOT=$("$PVLOCK_ROOT/scripts/workloads.sh") || die "staging the workloads failed"
	wl=(-d "$WL_ROOT=/" -f "$PVLOCK_ROOT/tests/qemu/lib/wl.sh=/lib/wl.sh")
fi
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/bench-l2.sh" \
	-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_BENCH=/bench/pvlock_lockbench.ko" "${wl[@]}" \
	-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
l1_bins=(-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq)
[ -x "$PVLOCK_ROOT/build/daemon/pvlockd" ] && l1_bins+=(-b "$PVLOCK_ROOT/build/daemon/pvlockd")
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/bench-nested-l1.sh" \
	-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" \
	-f "$KO_HOST=/pvlock/pvlock_host.ko" "${l1_bins[@]}" || die "L1 initramfs"

show=${PVLOCK_BENCH_SHOW:-0}
runs=$secs
[ -n "$real" ] && runs=$((2 * secs))
RESULTS=$PVLOCK_ROOT/build/results/bench-nested.txt
export RESULTS
PVLOCK_STEAL_LOG=1	# the host's steal per run (scripts/qemu-run.sh)
export PVLOCK_STEAL_LOG
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
v=()
[ "${PVLOCK_BENCH_VERBOSE:-0}" = 1 ] && v=(-v)
log=
# The two cases in two L1 boots. Overcommitted: an L1 of 2 vCPUs, both L2s
# on its last one. Undercommitted: an L1 of 3 vCPUs, 1 and 2 isolated, each
# alone on a host CPU (PVLOCK_HOST_PIN), and the solo VM's vCPU k alone on L1
# CPU 1 + k (PVLOCK_L2_PIN=vcpu), as the workload benchmark's "under" level:
# no L2 vCPU on L1's CPU 0 (the nested-TCG stack fault, README), and pvlockd,
# pvlock_host's tick and the L2s' QEMU threads there, not on a measured vCPU.
if [ "$over" = 1 ]; then
	"$PVLOCK_ROOT/scripts/qemu-run.sh" "${v[@]}" -n "bench-nested-$kid" -k "$kid" -i "$l1" -s 2 -m 4096 -c max \
		-t $((rounds * narms * (runs + 40) + show + 400)) \
		-a "PVLOCK_BENCH_ROUNDS=$rounds PVLOCK_BENCH_SECS=$secs PVLOCK_BENCH_UNDER=0 PVLOCK_BENCH_OVER=1 PVLOCK_BENCH_ARMS=$arms PVLOCK_BENCH_SHOW=$show${real:+ PVLOCK_BENCH_REAL=$real}" ||
		msg "the overcommitted run reported failures (see $RESULTS)"
	log=$PVLOCK_ROOT/build/logs/bench-nested-$kid.log
fi
if [ "$under" = 1 ]; then
	PVLOCK_HOST_PIN=1 "$PVLOCK_ROOT/scripts/qemu-run.sh" "${v[@]}" -n "bench-nested-under-$kid" -k "$kid" -i "$l1" -s 3 -m 4096 -c max \
		-t $((rounds * narms * (runs + 40) + 400)) \
		-a "isolcpus=1,2 PVLOCK_BENCH_ROUNDS=$rounds PVLOCK_BENCH_SECS=$secs PVLOCK_BENCH_UNDER=1 PVLOCK_BENCH_OVER=0 PVLOCK_BENCH_ARMS=$arms PVLOCK_BENCH_SHOW=0${real:+ PVLOCK_BENCH_REAL=$real}" ||
		msg "the undercommitted run reported failures (see $RESULTS)"
	log="$log $PVLOCK_ROOT/build/logs/bench-nested-under-$kid.log"
fi
fi
# shellcheck disable=SC2086
set -- $log

grep -q 'PVLOCK-BENCH ' "$@" 2>/dev/null || die "no results in ${log:-the console log}"

# one CSV row per measured run
csv=$out/nested.csv
echo "case,vm,round,variant,ops,seconds,ops_per_s,acq_n,acq_p50_ns,acq_p99_ns,acq_p999_ns,acq_max_ns,jain,slowpath,pending,queued,waits,wait_early,halts,yields,yield_same_vm,yield_cross_vm,preempted_seen,threshold,threshold_changes,truth_same_vm,truth_landed,truth_unknown,truth_named_owner,truth_kvm_expected_milli,host_steal,host_boosts_given,host_boosts_ran" > "$csv"
# the host's steal during each run (qemu-run.sh PVLOCK_STEAL_LOG): from the
# L2's load of the benchmark module to its unload; "VM ROUND VARIANT SHARE"
stealmap=$(mktemp)
for f in "$@"; do
	[ -s "$f.steal" ] || continue
	sed -E 's/^([0-9]+) ([0-9]+)\|\[L2:([a-z]+)\] (.*)/\3 \1 \2 \4/;t;d' "$f.steal" | awk '
	$4 == "PVLOCK-MODULE" && $6 == "pvlock_lockbench" { if ($5 == "load") { s0[$1] = $2; t0[$1] = $3 } else { s1[$1] = $2; t1[$1] = $3 } }
	$4 == "PVLOCK-BENCH" && ($1 in t0) && ($1 in t1) && t1[$1] > t0[$1] {
		r = $0; sub(/.* round=/, "", r); sub(/ .*/, "", r)
		v = $0; sub(/.* variant=/, "", v); sub(/ .*/, "", v)
		printf "%s %s %s %.4f\n", $1, r, v, (s1[$1] - s0[$1]) / (t1[$1] - t0[$1])
		delete t0[$1]; delete t1[$1]
	}'
done > "$stealmap"
# pvlock_host's directed yields during each run of an arm that loads it
# (bench-nested-l1.sh PVLOCK-L1HOST): "VM ROUND VARIANT GIVEN RAN"
hostmap=$(mktemp)
grep -h '^PVLOCK-L1HOST ' "$@" | awk '{
	r = $0; sub(/.* round=/, "", r); sub(/ .*/, "", r)
	v = $0; sub(/.* variant=/, "", v); sub(/ .*/, "", v)
	for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && split(kv[1], e, ":") == 2) {
		if (e[2] == "boosts_given") g[e[1]] = kv[2]
		if (e[2] == "boosts_ran") x[e[1]] = kv[2]
	}
	for (m in g) if (m in x) print m, r, v, g[m], x[m]
	delete g; delete x
}' > "$hostmap"
grep -h -E '^\[L2:[a-z]+\] PVLOCK-BENCH ' "$@" | sed 's/^\[L2:[a-z]*\] //' |
	awk -v stealmap="$stealmap" -v hostmap="$hostmap" '
BEGIN {
	while ((getline l < stealmap) > 0) { split(l, f, " "); steal[f[1], f[2], f[3]] = f[4] }
	while ((getline l < hostmap) > 0) { split(l, f, " "); hg[f[1], f[2], f[3]] = f[4]; hr[f[1], f[2], f[3]] = f[5] }
}
function kv(key) {	# value of " key=value", "" if absent
	if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
	return ""
}
function js(key) {	# a number of the stats JSON
	if (match(st, "\"" key "\":[0-9]+")) return substr(st, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
	return ""
}
{
	line = " " $0
	st = ""
	if (match(line, " stats=.*")) st = substr(line, RSTART + 7)
	ns = kv("ns") + 0
	if (ns <= 0) next
	c = kv("vm") == "solo" ? "undercommitted" : "overcommitted-4x"
	printf "%s,%s,%s,%s,%s,%.3f,%.0f,%s,%s,%s,%s,%s,%.3f", c, kv("vm"), kv("round"), kv("variant"),
		kv("ops"), ns / 1e9, kv("ops") / (ns / 1e9), kv("n"), kv("p50"), kv("p99"), kv("p999"),
		kv("max"), kv("jain") / 1000
	n = split("slowpath pending queued waits wait_early halts yields yield_same_vm yield_cross_vm preempted_seen threshold threshold_changes", k, " ")
	for (i = 1; i <= n; i++) printf ",%s", js(k[i])
	n = split("same_vm landed unknown named_owner kvm_expected_milli", k, " ")
	for (i = 1; i <= n; i++) printf ",%s", kv("truth_" k[i])
	run = kv("vm") SUBSEP kv("round") SUBSEP kv("variant")
	printf ",%s,%s,%s\n", steal[run], hg[run], hr[run]
}' >> "$csv"
rm -f "$stealmap" "$hostmap"

awk -F, -v rounds="$rounds" -v secs="$secs" -v abi="$ABI" -v kid="$kid" \
    -v host="$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    -v rev="$(pvlock_rev)" \
    -f "$PVLOCK_ROOT/scripts/stats.awk" -f <(cat <<'AWK'
NR == 1 { next }
{
	c = $1; v = $4
	cases[c] = 1; armseen[v] = 1
	t[c, $3, v] += $7
	# the share of CPU time the build machine's hypervisor took during the run
	if ($31 != "" && $31 < 0.9) { sxs[c, $3, v] += $31; sxn[c, $3, v]++; stl[c, ++nstl[c]] = $31 }
	if ($3 > nr[c]) nr[c] = $3
	k = ++n[c, v]
	p50[c, v, k] = $9; p99[c, v, k] = $10; p999[c, v, k] = $11; fj[c, v, k] = $13
	if ($12 > mx[c, v]) mx[c, v] = $12
	acq[c, v] += $8; ops[c, v] += $5
	for (i = 14; i <= 25; i++) sum[c, v, i] += $i
	for (i = 26; i <= 30; i++) tr[c, v, i] += $i
}
# arm_median(c, v): the median over case c's rounds of arm v's ops/s (0: none)
function arm_median(c, v,   r, k, x) {
	k = 0
	for (r = 1; r <= nr[c]; r++) if (t[c, r, v] > 0) x[++k] = t[c, r, v]
	return median(x, k)
}
# whether case c's pvlock/stock median meets target x, and whether its
# interval says so too
function verdict(c, x) {
	if (lo[c] >= x) return "met"
	if (med[c] >= x) return "met by the median; the interval reaches below " x ": not resolved"
	if (hi[c] < x) return "missed"
	return "missed by the median; the interval reaches " x ": not resolved"
}
function row(c, v, what,   i, a, m) {
	m = n[c, v]
	for (i = 1; i <= m; i++) a[i] = what == "p50" ? p50[c, v, i] : what == "p99" ? p99[c, v, i] : what == "p999" ? p999[c, v, i] : fj[c, v, i]
	return median(a, m)
}
END {
	srand(1)
	print "## Nested benchmark: pvlock vs stock"
	print ""
	print "Kernel " abi " (" kid ") in L1 (TCG, -cpu max) and L2 (KVM, 2 vCPUs each), one L1 boot per"
	print "case. Overcommitted: an L1 of 2 vCPUs, both L2s on its last one (4 vCPUs on 1). Undercommitted:"
	print "an L1 of 3 vCPUs, 1 and 2 isolated (isolcpus) and each alone on a host CPU, the solo VM's"
	print "vCPU k alone on L1 CPU 1 + k, its QEMU's other threads, pvlockd and pvlock_host's tick on CPU 0."
	print "Host: " host "; pvlock " rev "."
	print "Workload: pvlock_lockbench (one spinlock, 2 threads per vCPU, 2 us inside, 4 us outside),"
	na = 0; for (v in armseen) na++
	cyc = na % 2 ? 2 * na : na
	printf("%s s per run, %d rounds, every arm in each round in a Williams order (over every %d\n", secs, rounds, cyc)
	printf("rounds each arm in each position and right after each other arm equally often%s%s);\n",
		(na > 2 ? ", never right after itself" : ""), (rounds % cyc ? "; " rounds " rounds are not a whole cycle, so nearly" : ""))
	print "throughput summed over the case's VMs."
	print "\"stock\" is pvlock_guest in its stock mode (the kernel's algorithm) without pvlock_host;"
	print "\"pvlock\" is adaptive mode with pvlock_host and pvlockd."
	print ""
	print "| case | round | stock ops/s | pvlock ops/s | pvlock/stock |"
	print "|---|---|---|---|---|"
	for (c in cases)
		for (r = 1; r <= nr[c]; r++)
			if (t[c, r, "stock"] > 0 && t[c, r, "pvlock"] > 0)
				printf "| %s | %d | %.0f | %.0f | %.3f |\n", c, r, t[c, r, "stock"], t[c, r, "pvlock"], t[c, r, "pvlock"] / t[c, r, "stock"]
	print ""
	print "| case | rounds | pvlock/stock median [95% bootstrap interval] | min | max |"
	print "|---|---|---|---|---|"
	for (c in cases) {
		k = 0; delete ratio
		for (r = 1; r <= nr[c]; r++)
			if (t[c, r, "stock"] > 0 && t[c, r, "pvlock"] > 0) ratio[++k] = t[c, r, "pvlock"] / t[c, r, "stock"]
		if (!k) continue
		delete cp; for (i = 1; i <= k; i++) cp[i] = ratio[i]
		med[c] = median(cp, k); boot_ci(ratio, k, ci); lo[c] = ci[1]; hi[c] = ci[2]
		printf "| %s | %d | %.3f [%.3f-%.3f] | %.3f | %.3f |\n", c, k, med[c], ci[1], ci[2], cp[1], cp[k]
	}
	for (k in sxn) sx[k] = sxs[k] / sxn[k]	# a round's steal: the mean of its VMs'
	hdr = 0
	for (c in cases) {
		if (!nstl[c]) continue
		if (!hdr++) {
			print ""
			print "The same rounds adjusted for the build machine's own steal (the time its hypervisor took"
			print "from its CPUs while the L2s ran the benchmark module, /proc/stat, both CPUs): log(ops/s)"
			print "= arm + b x steal fitted over the case's runs, each ratio taken between runs moved to the"
			print "same steal; R^2: the share of the within-arm variance steal explains; the interval"
			print "resamples rounds and fits b again each time (stock2: A/A). The last two columns fit"
			print "each arm on its own (log(ops/s) = a_arm + b_arm x steal: the arms may lose to steal at"
			print "different rates) and take the ratio at no steal, exp(a_arm - a_stock):"
			print ""
			print "| case | host steal per run median (max) | b | R^2 | arm | arm/stock, adjusted median [95%] | own slopes b_stock, b_arm | arm/stock at no steal [95%] |"
			print "|---|---|---|---|---|---|---|---|"
		}
		delete x; for (i = 1; i <= nstl[c]; i++) x[i] = stl[c, i]
		sm = sprintf("%.1f%% (%.1f%%)", 100 * median(x, nstl[c]), 100 * x[nstl[c]])
		for (v in armseen) {
			if (v == "stock") continue
			m = steal_adjusted(t, sx, armseen, c, nr[c], "stock", v, ci)
			if (m == "") continue
			cell = sprintf("| %s | %s | %.2f | %.2f | %s | %.3f [%.3f-%.3f]", c, sm, steal_b, steal_r2, v, m, ci[1], ci[2])
			m = steal_free(t, sx, c, nr[c], "stock", v, ci)
			print cell (m == "" ? " | - | - |" : sprintf(" | %.2f, %.2f | %.3f [%.3f-%.3f] |", free_bb, free_bt, m, ci[1], ci[2]))
		}
	}
	print ""
	print "Per acquisition of the benchmark's lock, fast path included (timed around spin_lock() in"
	print "the benchmark module; medians over the runs, each run's percentiles over all its"
	print "acquisitions, n per run in the first column), the longest single wait of any run, and"
	print "Jain's fairness index of the threads' acquisition counts (1: every thread got the same"
	print "share; median over the runs):"
	print ""
	print "| case | arm | acquisitions per run | p50 ns | p99 ns | p99.9 ns | longest wait ns | Jain |"
	print "|---|---|---|---|---|---|---|---|"
	for (c in cases) for (vi = 1; vi <= 2; vi++) {
		v = vi == 1 ? "stock" : "pvlock"
		if (!n[c, v]) continue
		printf "| %s | %s | %.0f | %d | %d | %d | %d | %.3f |\n", c, v, acq[c, v] / n[c, v],
			row(c, v, "p50"), row(c, v, "p99"), row(c, v, "p999"), mx[c, v], row(c, v, "jain")
		q[c, v, 99] = row(c, v, "p99"); q[c, v, 999] = row(c, v, "p999"); q[c, v, 1] = row(c, v, "jain")
	}
	print ""
	print "Slow path per 1000 acquisitions (the guest's counters over the same runs): entries, of"
	print "which through the pending bit and queued; blocked waits (halts + yields: a waiter that"
	print "gave up its vCPU), waits begun early (predecessor or holder preempted), and how often"
	print "the adaptive threshold moved (summed over the runs):"
	print ""
	print "| case | arm | slow path | pending | queued | gave up spinning | early | halts | yields | preempted seen | threshold changes |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	for (c in cases) for (vi = 1; vi <= 2; vi++) {
		v = vi == 1 ? "stock" : "pvlock"
		if (!acq[c, v]) continue
		a = acq[c, v] / 1000
		printf "| %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %d |\n", c, v,
			sum[c, v, 14] / a, sum[c, v, 15] / a, sum[c, v, 16] / a, sum[c, v, 17] / a,
			sum[c, v, 18] / a, sum[c, v, 19] / a, sum[c, v, 20] / a, sum[c, v, 23] / a, sum[c, v, 25]
	}
	hdr = 0
	for (c in cases) for (v in armseen) {
		if (v == "stock" || v == "pvlock") continue
		k = 0; delete ratio
		for (r = 1; r <= nr[c]; r++)
			if (t[c, r, "stock"] > 0 && t[c, r, v] > 0) ratio[++k] = t[c, r, v] / t[c, r, "stock"]
		if (!k) continue
		if (!hdr++) {
			print ""
			print "The other arms, each against stock in the same rounds. stock2: stock again, its ratio"
			print "the instrument's own noise (A/A: an interval as wide as this one is the smallest"
			print "difference the table can resolve). Ablations: adaptive (the guest's adaptive mode"
			print "without pvlock_host), stockhost (stock mode with pvlock_host and pvlockd), stocknod"
			print "(stock mode with pvlock_host alone), nodaemon (adaptive with pvlock_host, no"
			print "pvlockd), nocross (pvlock with the host never yielding"
			print "to another VM's vCPU). p50 per acquisition as above:"
			print ""
			print "| case | arm | rounds | arm/stock median [95% bootstrap interval] | min | max | p50 ns | slow path per 1000 |"
			print "|---|---|---|---|---|---|---|---|"
		}
		delete cp; for (i = 1; i <= k; i++) cp[i] = ratio[i]
		m = median(cp, k); boot_ci(ratio, k, ci)
		printf "| %s | %s | %d | %.3f [%.3f-%.3f] | %.3f | %.3f | %d | %.1f |\n", c, v, k, m, ci[1], ci[2],
			cp[1], cp[k], row(c, v, "p50"), acq[c, v] ? sum[c, v, 14] / (acq[c, v] / 1000) : 0
	}
	for (c in cases) if (tr[c, "pvlock", 26] > 0) {
		print ""
		print "Whom pvlock's directed yields reached (" c "): " tr[c, "pvlock", 26] " yields within the VM, " \
			sprintf("%.1f%%", 100 * tr[c, "pvlock", 27] / tr[c, "pvlock", 26]) " of them to the vCPU holding the lock at that moment (" \
			tr[c, "pvlock", 28] " to a vCPU the host could not name); KVM's own PLE choice at the same moments would have reached it " \
			sprintf("%.1f%%", 100 * tr[c, "pvlock", 30] / 1000 / tr[c, "pvlock", 26]) " of the time (expected value of its round-robin pick among the preempted vCPUs)."
	}
	# What the overcommitted ratio can reach: the same VMs without any lock
	# holder preemption would run as fast per CPU as the solo VM does on its
	# own two CPUs; 4 vCPUs on 1 CPU give each VM a quarter of that CPU
	# time, so the pair's ceiling is half the solo VM's throughput.
	c = "overcommitted-4x"; u = "undercommitted"
	if ((c in cases) && (u in cases)) {
		ceil = arm_median(u, "stock") / 2; so = arm_median(c, "stock"); po = arm_median(c, "pvlock")
		if (ceil > 0 && so > 0 && po > 0) {
			print ""
			print "What the overcommitted ratio can reach. Without lock-holder preemption the two VMs would"
			print "get as much done per CPU second as the solo VM (undercommitted, stock) does on its two"
			print "CPUs; each VM has a quarter of that CPU time, so the pair's ceiling is half the solo VM's"
			print "throughput (an estimate: it takes the scheduling of 4 vCPUs on 1 CPU as free). Medians:"
			print ""
			print "| ceiling ops/s | stock ops/s (share of ceiling) | pvlock ops/s (share of ceiling) | stock's loss pvlock recovers | highest pvlock/stock possible |"
			print "|---|---|---|---|---|"
			printf "| %.0f | %.0f (%.0f%%) | %.0f (%.0f%%) | %s | %.2f |\n", ceil, so, 100 * so / ceil, po, 100 * po / ceil,
				so < ceil ? sprintf("%.0f%%", 100 * (po - so) / (ceil - so)) : "-", ceil / so
		}
	}
	print ""
	print "Targets (issue 13): overcommitted pvlock/stock median >= 1.3, per-acquisition p99 and"
	print "p99.9 no worse than stock x 1.1, Jain no lower than stock - 0.05; undercommitted >= 0.98."
	print ""
	for (c in cases) {
		if (c == "undercommitted") {
			printf "- %s: median %.3f [%.3f-%.3f]: %s\n", c, med[c], lo[c], hi[c], verdict(c, 0.98)
			continue
		}
		printf "- %s: median %.3f [%.3f-%.3f] (%s); p99 %d vs %d (%s); p99.9 %d vs %d (%s); Jain %.3f vs %.3f (%s)\n", c,
			med[c], lo[c], hi[c], verdict(c, 1.3),
			q[c, "pvlock", 99], q[c, "stock", 99], (q[c, "pvlock", 99] <= 1.1 * q[c, "stock", 99] ? "met" : "missed"),
			q[c, "pvlock", 999], q[c, "stock", 999], (q[c, "pvlock", 999] <= 1.1 * q[c, "stock", 999] ? "met" : "missed"),
			q[c, "pvlock", 1], q[c, "stock", 1], (q[c, "pvlock", 1] >= q[c, "stock", 1] - 0.05 ? "met" : "missed")
	}
}
AWK
) "$csv" | tee "$out/nested.md"

# how busy the L1's CPUs were during each arm's runs (bench-nested-l1.sh
# follow, PVLOCK-L1CPU: from the L1's word to the guests' next request): CPU
# 0 carries the VMs' QEMU I/O threads and pvlock's host side and shares the
# host's cores with the vCPUs' CPUs; and what the L1 scheduler did with the
# vCPU threads in the same spans (PVLOCK-L1SCHED: /proc/TID/schedstat of the
# pinned VMs' vCPU threads as vcpu_sched_diff gives it, summed over a case's
# VMs), and over the measured runs alone (PVLOCK-L1RUNSCHED: the guest marks
# each run's start and end on its second serial line); and KVM's exit counters
# over the same runs (PVLOCK-L1RUNKVM) and the L1's threads that used the most
# CPU in them (PVLOCK-L1RUNTOP)
if grep -q -E '^PVLOCK-L1(CPU|SCHED|RUNCPU|RUNSCHED|RUNKVM|RUNTOP) ' "$@"; then
	grep -h -E '^PVLOCK-L1(CPU|SCHED|RUNCPU|RUNSCHED|RUNKVM|RUNTOP) |^\[L2:solo\] PVLOCK-BENCH vm=solo ' "$@" | awk -f "$PVLOCK_ROOT/scripts/stats.awk" -f <(cat <<'AWK'
	# keep(t, c, v, m, x): sample x of metric m for table t, case c, arm v
	function keep(t, c, v, m, x) {
		if (!((t, c, v) in seen)) { seen[t, c, v] = 1; key[t, ++nk[t]] = c SUBSEP v }
		b[c, v, m, ++nb[c, v, m]] = x
	}
	# cputab(t): table t's L1 CPU busy medians per case and arm
	function cputab(t,   i, p, c, v, k, line) {
		print "| case | arm | rounds | L1 CPU busy, median per CPU |"
		print "|---|---|---|---|"
		for (i = 1; i <= nk[t]; i++) {
			split(key[t, i], p, SUBSEP); c = p[1]; v = p[2]; line = ""
			for (k = 0; k < ncpu[c]; k++) line = line sprintf("%sCPU %d %.0f%%", k ? ", " : "", k, 100 * med(c, v, "cpu" k))
			printf "| %s | %s | %d | %s |\n", c, substr(v, length(t) + 1), nb[c, v, "cpu0"], line
		}
	}
	# schedtab(t): table t's vCPU schedstat medians per case and arm
	function schedtab(t,   i, p, c, v) {
		print "| case | arm | rounds | vCPU run ms | waiting ms | times run |"
		print "|---|---|---|---|---|---|"
		for (i = 1; i <= nk[t]; i++) {
			split(key[t, i], p, SUBSEP); c = p[1]; v = p[2]
			printf "| %s | %s | %d | %.0f | %.0f | %.0f |\n", c, substr(v, length(t) + 1),
				nb[c, v, "run"], med(c, v, "run"), med(c, v, "wait"), med(c, v, "sl")
		}
	}
	# kvmtab(t): KVM's counters over a run, medians per case and arm
	function kvmtab(t,   i, j, p, c, v, line, hdr, sep, nm, m) {
		nm = split("exits halt_exits hypercalls irq_exits io_exits host_state_reload preemption_reported halt_wakeup directed_yield_attempted", m, " ")
		hdr = "| case | arm | rounds |"; sep = "|---|---|---|"
		for (j = 1; j <= nm; j++) { hdr = hdr " " m[j] " |"; sep = sep "---|" }
		print hdr; print sep
		for (i = 1; i <= nk[t]; i++) {
			split(key[t, i], p, SUBSEP); c = p[1]; v = p[2]; line = ""
			for (j = 1; j <= nm; j++)
				line = line sprintf(" %s |", nb[c, v, m[j]] ? sprintf("%.0f", med(c, v, m[j])) : "-")
			printf "| %s | %s | %d |%s\n", c, substr(v, length(t) + 1), nb[c, v, "exits"], line
		}
	}
	function med(c, v, m,   a, i) {
		for (i = 1; i <= nb[c, v, m]; i++) a[i] = b[c, v, m, i]
		return median(a, nb[c, v, m])
	}
	/PVLOCK-BENCH vm=solo / {	# the solo VM's throughput per run, for the correlation below
		r = $0; sub(/.* round=/, "", r); sub(/ .*/, "", r)
		v = $0; sub(/.* variant=/, "", v); sub(/ .*/, "", v)
		o = $0; sub(/.* ops=/, "", o); sub(/ .*/, "", o)
		if (o > 0) solo_ops[r, v] = o
		next
	}
	{
		c = index($0, "case=solo ") ? "undercommitted" : "overcommitted-4x"
		v = $0; sub(/.* variant=/, "", v); sub(/ .*/, "", v)
	}
	$1 == "PVLOCK-L1RUNCPU" && c == "undercommitted" {
		r = $0; sub(/.* round=/, "", r); sub(/ .*/, "", r)
		for (i = 1; i <= NF; i++) if ($i ~ /^cpu0=/) { split($i, f, "="); solo_cpu0[r, v] = f[2]; solo_runs[++nsolo] = r SUBSEP v }
	}
	$1 == "PVLOCK-L1CPU" || $1 == "PVLOCK-L1RUNCPU" {
		t = $1 == "PVLOCK-L1CPU" ? "cpu" : "runcpu"
		for (i = 1; i <= NF; i++) if ($i ~ /^cpu[0-9]+=/) {
			split($i, f, "="); k = substr(f[1], 4) + 0
			if (k + 1 > ncpu[c]) ncpu[c] = k + 1
			keep(t, c, t v, "cpu" k, f[2])
		}
	}
	$1 == "PVLOCK-L1SCHED" || $1 == "PVLOCK-L1RUNSCHED" {
		t = $1 == "PVLOCK-L1SCHED" ? "sched" : "runsched"
		run = wait = sl = 0; ok = 0
		for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && split(kv[2], x, "/") == 3) {
			run += x[1]; wait += x[2]; sl += x[3]; ok = 1
		}
		if (ok) { keep(t, c, t v, "run", run); keep(t, c, t v, "wait", wait); keep(t, c, t v, "sl", sl) }
	}
	$1 == "PVLOCK-L1RUNKVM" {
		for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] != "case" && kv[1] != "round" && kv[1] != "variant")
			keep("runkvm", c, "runkvm" v, kv[1], kv[2])
	}
	$1 == "PVLOCK-L1RUNTOP" {
		if (!((c, v) in topn)) { topn[c, v] = 0; if (!(c in tc)) { tc[c] = 1; tcase[++ntc] = c }
			tarm[c, ++ntarm[c]] = v }
		topn[c, v]++
		for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] != "case" && kv[1] != "round" && kv[1] != "variant") {
			# a kworker by the workqueue it ran last, not by its number
			n = kv[1]; sub(/^kworker\/[^-]*/, "kworker", n)
			if (!((c, n) in tn)) { tn[c, n] = 1; tname[c, ++ntname[c]] = n }
			tms[c, v, n] += kv[2]
		}
	}
	END {
		if (ntc) {
			print ""
			print "Where the L1's CPU time went over the measured runs: the threads that used the most (each"
			print "run's 8 busiest by /proc/TID/stat; ms per run, mean over the rounds; kworkers by the"
			print "workqueue they ran last; the vCPU threads are the VMM's \"CPU_n/KVM\"):"
			for (j = 1; j <= ntc; j++) {
				c = tcase[j]; hdr = "| case | thread |"; sep = "|---|---|"
				for (k = 1; k <= ntarm[c]; k++) { hdr = hdr " " tarm[c, k] " |"; sep = sep "---|" }
				print ""; print hdr; print sep
				for (i = 1; i <= ntname[c]; i++) {
					n = tname[c, i]; line = "| " c " | " n " |"
					for (k = 1; k <= ntarm[c]; k++) { v = tarm[c, k]; line = line sprintf(" %.0f |", tms[c, v, n] / topn[c, v]) }
					print line
				}
			}
		}
		if (nk["cpu"]) {
			print ""
			print "How busy the L1 CPUs were during each arm's runs (the L1's /proc/stat, from the L1's word"
			print "to start a run to the guests' asking for the next: the run, the guests' waiting before it"
			print "(pvlock: until the host side has registered every vCPU, polling with the vCPUs idle) and"
			print "their bookkeeping after it; median over the rounds)."
			print "CPU 0 runs the VMs' QEMU I/O threads, pvlockd and pvlock_host's tick; in the"
			print "undercommitted L1 (3 CPUs on the host's 2 cores) what it uses, the vCPUs' CPUs lose:"
			print ""
			cputab("cpu")
		}
		if (nk["runcpu"]) {
			print ""
			print "The same over the measured runs alone (marked by the guest as for the schedstat below):"
			print ""
			cputab("runcpu")
			# within a round, the solo VM's log(ops/s) against its run's CPU 0
			# busy: steal_fit's within-group slope and r^2, the rounds as its groups
			for (i = 1; i <= nsolo; i++) if (solo_runs[i] in solo_ops) {
				split(solo_runs[i], p, SUBSEP)
				cval["u", p[2], p[1]] = solo_ops[solo_runs[i]]; ccpu["u", p[2], p[1]] = solo_cpu0[solo_runs[i]]
				cround[p[1]] = 1; cn++
				if (!(p[2] in cvar)) { cvar[p[2]] = 1; cvl[++ncv] = p[2] }
			}
			cb = cn >= 4 ? steal_fit(cval, ccpu, cround, "u", cvl, ncv) : 0
			if (cb != 0) {
				print ""
				printf "Undercommitted, within a round: a run's throughput against its L1 CPU 0 busy (deviations\n"
				printf "from the round's means, %d runs): r = %.2f, %+.1f%% throughput per point of CPU 0 busy.\n", cn, (cb < 0 ? -1 : 1) * sqrt(steal_r2), 100 * (exp(cb / 100) - 1)
			}
		}
		if (nk["sched"]) {
			print ""
			print "What the L1 scheduler did with the pinned VMs' vCPU threads over the same spans"
			print "(their /proc/TID/schedstat, summed over the vCPUs; median over the rounds): CPU"
			print "time, time runnable but waiting for the CPU, and how often each was put on it:"
			print ""
			schedtab("sched")
		}
		if (nk["runsched"]) {
			print ""
			print "The same over the measured runs alone (from the guest's word that a run starts to"
			print "its word that it ended, on a serial line of its own; without the wait before a run"
			print "and the bookkeeping after it):"
			print ""
			schedtab("runsched")
		}
		if (nk["runkvm"]) {
			print ""
			print "What KVM counted over the same runs (its debugfs counters, all VMs of the L1 together;"
			print "median over the rounds): exits of every kind, then by reason; host_state_reload counts"
			print "the vCPU threads' switches away from the guest, preemption_reported the times KVM told"
			print "a guest its vCPU was preempted. The same counts with more time per run mean each exit"
			print "cost more; more exits mean the arm changed what the guest does:"
			print ""
			kvmtab("runkvm")
		}
	}
AWK
) | tee -a "$out/nested.md"
fi

# whether the L1 scheduler ran the vCPUs pvlock_host yielded to
# (host_boosts_given, host_boosts_ran; bench-nested-l1.sh host_yields)
if awk -F, 'NR > 1 && $32 > 0 { f = 1 } END { exit !f }' "$csv"; then
	awk -F, '
	NR > 1 && $32 != "" {
		k = $1 SUBSEP $4 SUBSEP $3
		if (!(k in seen)) { seen[k] = 1; key[++nk] = k }
		ops[k] += $7; g[k] += $32; x[k] += $33; st[k] += $31; ns[k]++
	}
	END {
		print ""
		print "Directed yields the L1 scheduler honoured (pvlock_host, per run, both VMs together):"
		print "a boost \"ran\" when the vCPU yielded to was scheduled in before the giver came"
		print "back from yield_to(); the scheduler may pick another task instead (EEVDF, 6.6 and"
		print "later, honours the request only while the target is not ahead of its fair share;"
		print "CFS, 6.1, only while its vruntime is within the wakeup granularity of the leftmost"
		print "task'"'"'s)."
		print ""
		print "| case | arm | round | ops/s | boosts given | ran before the giver | share | host steal |"
		print "|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= nk; i++) {
			split(key[i], p, SUBSEP); k = key[i]
			printf "| %s | %s | %s | %.0f | %d | %d | %.1f%% | %.1f%% |\n", p[1], p[2], p[3], ops[k], g[k], x[k],
				(g[k] > 0 ? 100 * x[k] / g[k] : 0), 100 * st[k] / ns[k]
		}
	}' "$csv" | tee -a "$out/nested.md"
fi

# the real workload run after each lock benchmark run (PVLOCK_BENCH_REAL)
if grep -q 'PVLOCK-BENCH-REAL ' "$@"; then
	grep -h -E '^\[L2:[a-z]+\] PVLOCK-BENCH-REAL ' "$@" | sed 's/^\[L2:[a-z]*\] PVLOCK-BENCH-REAL //' |
	awk -f "$PVLOCK_ROOT/scripts/stats.awk" -f <(cat <<'AWK'
function kv(key) {
	if (match(" " $0, " " key "=[^ ]*")) return substr(" " $0, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
	return ""
}
kv("cs") > 0 {
	c = kv("vm") == "solo" ? "undercommitted" : "overcommitted-4x"
	w = kv("wl"); r = kv("round"); v = kv("variant")
	t[c, r, v] += kv("ops") / (kv("cs") / 100)
	if (r > nr[c]) nr[c] = r
	if (v == "pvlock") p99[c, "pvlock", ++np[c]] = kv("p99_us")
	else p99[c, "stock", ++ns[c]] = kv("p99_us")
	cases[c] = 1
}
END {
	print ""
	print "### A real program in the same rounds: " w " (events/s summed over the VMs, right after each lock run)"
	print ""
	print "| case | round | stock | pvlock | pvlock/stock |"
	print "|---|---|---|---|---|"
	for (c in cases) {
		k = 0
		for (r = 1; r <= nr[c]; r++) if (t[c, r, "stock"] > 0 && t[c, r, "pvlock"] > 0) {
			x[++k] = t[c, r, "pvlock"] / t[c, r, "stock"]
			printf "| %s | %d | %.0f | %.0f | %.3f |\n", c, r, t[c, r, "stock"], t[c, r, "pvlock"], x[k]
		}
		if (k) {
			for (i = 1; i <= np[c]; i++) a[i] = p99[c, "pvlock", i]
			for (i = 1; i <= ns[c]; i++) b[i] = p99[c, "stock", i]
			printf "\n%s: pvlock/stock median %.3f over %d rounds; its own p99 event latency (median of the runs) stock %d us, pvlock %d us\n",
				c, median(x, k), k, median(b, ns[c]), median(a, np[c])
		}
	}
}
AWK
) | tee -a "$out/nested.md"
fi

# this run's rounds pooled with the earlier committed runs'
pool_with_earlier "$PVLOCK_ROOT/bench/results/pool-nested.list" "$csv" | tee -a "$out/nested.md"
