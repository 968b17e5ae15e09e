#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Workload benchmark: real programs from Debian packages (scripts/workloads.sh)
# in two nested L2 KVM guests, three arms (none / stock / pvlock) and an A/A
# arm (stock again) in rotating order, at three overcommit levels, all in one
# L1 boot (tests/qemu/wl-l1.sh, wl-l2.sh). Writes OUTDIR/workloads.csv (one
# row per VM and run), workloads.md (ratios with intervals, tails, fairness,
# noise) and a plot per workload.
#   bench-workloads.sh [OUTDIR]   (default bench/results)
#   BENCH_KERNEL=6.12-trixie PVLOCK_WL_ROUNDS=8 PVLOCK_WL_SECS=6
#   PVLOCK_WL_LEVELS="under 4x" (also: 2x)
#   PVLOCK_WL_LIST="build sysbench redis" (also: hackbench)
#   (the defaults take about 45 minutes on a 2-core host)
#   PVLOCK_WL_ARMS="none stock pvlock stock2" (a subset for noise experiments,
#     e.g. "stock stock2": the A/A pair alone), PVLOCK_WL_WARMUP=1 (0: none)
#   PVLOCK_BENCH_VERBOSE=1 (show the L1/L2 progress lines)
#   PVLOCK_WL_CRASH=LEVEL:ROUND:ARM:WL (a test: L2 "a" panics in place of that
#     run; the run must drop the round, boot the VM again and go on)
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

out=${1:-$PVLOCK_ROOT/bench/results}
kid=${BENCH_KERNEL:-6.12-trixie}
rounds=${PVLOCK_WL_ROUNDS:-8}
secs=${PVLOCK_WL_SECS:-6}
levels=${PVLOCK_WL_LEVELS:-under 4x}
wls=${PVLOCK_WL_LIST:-build sysbench redis}
mkdir -p "$out"
prepare_tools
ple_qemu
prepare_kernel "$kid"
WL_ROOT=$("$PVLOCK_ROOT/scripts/workloads.sh") || die "staging the workloads failed"
[ -x "$PVLOCK_ROOT/build/daemon/pvlockd" ] || die "pvlockd was not built (see make daemon)"
l2=$INITRD_DIR/wl-l2-$kid.cpio.gz
l1=$INITRD_DIR/wl-l1-$kid.cpio.gz
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/wl-l2.sh" \
	-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -d "$WL_ROOT=/" -f "$PVLOCK_ROOT/tests/qemu/lib/wl.sh=/lib/wl.sh" \
	-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/wl-l1.sh" \
	-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" \
	-f "$KO_HOST=/pvlock/pvlock_host.ko" -b "$PVLOCKCTL" -b "$PVLOCK_QUERY" \
	-b "$PVLOCK_ROOT/build/daemon/pvlockd" -b /usr/bin/jq || die "L1 initramfs"

nl=$(echo "$levels" | wc -w) nw=$(echo "$wls" | wc -w)
budget=$((nl * rounds * 4 * (nw * (secs + 6) + 20) + 600))
RESULTS=$PVLOCK_ROOT/build/results/bench-workloads.txt
export RESULTS
PVLOCK_STEAL_LOG=1	# the host's steal per run (scripts/qemu-run.sh)
export PVLOCK_STEAL_LOG
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
v=()
[ "${PVLOCK_BENCH_VERBOSE:-0}" = 1 ] && v=(-v)
lv=$(echo "$levels" | tr ' ' %) wl=$(echo "$wls" | tr ' ' %)
arms=$(echo "${PVLOCK_WL_ARMS:-none stock pvlock stock2}" | tr ' ' %)
# L1: 3 CPUs, 1 and 2 isolated for the L2 vCPUs, each alone on a host CPU
PVLOCK_HOST_PIN=1 "$PVLOCK_ROOT/scripts/qemu-run.sh" "${v[@]}" -n "bench-workloads-$kid" -k "$kid" \
	-i "$l1" -s 3 -m 4096 -c max -t "$budget" \
	-a "isolcpus=1,2 PVLOCK_WL_ROUNDS=$rounds PVLOCK_WL_SECS=$secs PVLOCK_WL_LEVELS=$lv PVLOCK_WL_LIST=$wl PVLOCK_WL_ARMS=$arms PVLOCK_WL_WARMUP=${PVLOCK_WL_WARMUP:-1}${PVLOCK_WL_CRASH:+ PVLOCK_WL_CRASH=$PVLOCK_WL_CRASH}" ||
	msg "the benchmark run reported failures (see $RESULTS)"
log=$PVLOCK_ROOT/build/logs/bench-workloads-$kid.log
rev=$(pvlock_rev)
"$PVLOCK_ROOT/scripts/wl-report.sh" "$log" "$out" \
	"pvlock $rev; kernel $ABI ($kid) in the L1 (TCG, -cpu max, 3 vCPUs: 1 and 2 isolated, each alone on a host CPU) and in two L2 KVM guests of 2 vCPUs and 512 MB; host: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $rounds rounds per level, ${secs} s per run; $(date -u +%Y-%m-%d)."

# this run's rounds pooled with the earlier committed runs'
pool_with_earlier "$PVLOCK_ROOT/bench/results/pool-workloads.list" "$out/workloads.csv" >> "$out/workloads.md"
