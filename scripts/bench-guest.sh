#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest-module overhead benchmark (not a test): locktorture writes/s in an L2
# KVM guest (the PV slow path) with pvlock_guest in "stock" mode vs not
# loaded, alternating in one boot. Writes OUTDIR/guest-overhead.{csv,md}.
#   bench-guest.sh [OUTDIR]   (default bench/results)
#   BENCH_KERNEL=6.12-bookworm PVLOCK_BENCH_ROUNDS=10 PVLOCK_BENCH_SECS=8
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

out=${1:-$PVLOCK_ROOT/bench/results}
kid=${BENCH_KERNEL:-6.12-bookworm}
rounds=${PVLOCK_BENCH_ROUNDS:-10}
secs=${PVLOCK_BENCH_SECS:-8}
mkdir -p "$out"
prepare_tools
prepare_kernel "$kid"
prepare_locktorture "$kid"
l2=$INITRD_DIR/bench-l2-$kid.cpio.gz
l1=$INITRD_DIR/bench-l1-$kid.cpio.gz
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/bench-overhead.sh" \
	-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_TORTURE=/lt/torture.ko" \
	-f "$KO_LOCKTORTURE=/lt/locktorture.ko" || die "L2 initramfs"
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/bench-l1.sh" \
	-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" || die "L1 initramfs"
budget=$((rounds * 2 * (secs + 15) + 180))
RESULTS=$PVLOCK_ROOT/build/results/bench-guest.txt
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
"$PVLOCK_ROOT/scripts/qemu-run.sh" -n "bench-guest-$kid" -k "$kid" -i "$l1" -s 3 -m 4096 -c max \
	-t $((budget + 60)) -a "PVLOCK_L2_TIMEOUT=$budget PVLOCK_L2_APPEND=PVLOCK_BENCH_ROUNDS=$rounds%PVLOCK_BENCH_SECS=$secs" ||
	msg "the benchmark run reported failures (see $RESULTS)"
log=$PVLOCK_ROOT/build/logs/bench-guest-$kid.log
csv=$out/guest-overhead.csv
echo "round,variant,writes,seconds,writes_per_s" > "$csv"
sed -nE 's/.*PVLOCK-BENCH variant=([a-z]+) round=([0-9]+) writes=([0-9]+) fail=0 cs=([0-9]+).*/\2 \1 \3 \4/p' "$log" |
	awk '{ printf "%s,%s,%s,%.2f,%.1f\n", $1, $2, $3, $4 / 100, $3 / ($4 / 100) }' >> "$csv"
awk -F, -v kid="$kid" -v abi="$ABI" -v rounds="$rounds" -v secs="$secs" -v host="$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" '
NR > 1 { r[$1, $2] = $5; if ($1 > n) n = $1 }
END {
	k = 0
	for (i = 1; i <= n; i++) if (r[i, "none"] > 0 && r[i, "stock"] > 0) ratio[++k] = r[i, "stock"] / r[i, "none"]
	# sort ratios
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
	med = k % 2 ? ratio[(k + 1) / 2] : (ratio[k / 2] + ratio[k / 2 + 1]) / 2
	print "## pvlock_guest overhead: stock mode vs not loaded"
	print ""
	print "L2 KVM guest (2 vCPUs, PV spinlocks, each vCPU alone on one L1 CPU) in a TCG L1 of 3 CPUs; kernel " abi " (" kid "); host: " host "."
	print "locktorture spin_lock, 2 writers per vCPU (writer k pinned to vCPU k mod 2), long_hold=0 rt_boost=0, " secs " s per run, " rounds " rounds, ABBA order."
	print ""
	print "| round | not loaded (writes/s) | stock mode (writes/s) | ratio |"
	print "|---|---|---|---|"
	for (i = 1; i <= n; i++) printf "| %d | %.0f | %.0f | %.3f |\n", i, r[i, "none"], r[i, "stock"], (r[i, "none"] > 0 ? r[i, "stock"] / r[i, "none"] : 0)
	print ""
	if (k) printf "ratio stock/not-loaded: min %.3f, median %.3f, max %.3f (target >= 0.97: %s)\n", ratio[1], med, ratio[k], (med >= 0.97 ? "met" : "missed")
	else print "no complete round: see the log"
}' "$csv" | tee "$out/guest-overhead.md"
