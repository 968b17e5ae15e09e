#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job. On this machine (no /dev/kvm): fetch a Debian kernel, build
# pvlock for it, boot an L1 KVM host under TCG with pvlock_host and pvlockd,
# start two L2 KVM guests with pvlock_guest that run a lock-heavy kernel
# workload on one of the L1's two vCPUs (4x overcommitted), show pvlock's live
# counters for a minute, then measure stock against pvlock, side by side.
#   DEMO_KERNEL=6.12-bookworm  DEMO_SHOW=60  DEMO_ROUNDS=3  DEMO_SECS=15
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

kid=${DEMO_KERNEL:-6.12-bookworm}
out=$PVLOCK_ROOT/bench/results/demo
t0=$(now)
step() { echo "[demo] $* ($(elapsed "$t0")s)"; }

step "1/3 installing what is missing, fetching Debian's $kid kernel, building pvlock for it"
make -s -C "$PVLOCK_ROOT/daemon" >/dev/null || die "building pvlockctl/pvlockd failed"
prepare_tools
prepare_kernel "$kid"
step "    kernel $ABI, modules and tools built"

step "2/3 booting L1 ($ABI under TCG, kvm_amd + pvlock_host + pvlockd) with two L2 KVM guests"
echo "[demo]     (pvlock_guest + pvlock_lockbench in each), pvlock's counters every 10 s:"
BENCH_KERNEL=$kid PVLOCK_BENCH_SHOW=${DEMO_SHOW:-60} PVLOCK_BENCH_ROUNDS=${DEMO_ROUNDS:-3} \
	PVLOCK_BENCH_SECS=${DEMO_SECS:-15} PVLOCK_BENCH_UNDER=0 PVLOCK_BENCH_VERBOSE=1 \
	"$PVLOCK_ROOT/scripts/bench-nested.sh" "$out" > "$PVLOCK_ROOT/build/demo.out" 2>&1 &
pid=$!
# the L1's live lines as they come, then the comparison
tail -n +1 -f "$PVLOCK_ROOT/build/demo.out" --pid=$pid 2>/dev/null |
	grep --line-buffered -vE '^\[(kernels|mkinitramfs|build-testmod)\.sh\]|^##|^\||^$|^(Kernel|host:|Workload|[0-9]+ s per)'
wait $pid
rc=$?
step "3/3 stock vs pvlock, the same workload in alternating rounds (ABBA):"
cat "$out/nested.md"
echo
echo "[demo] done in $(elapsed "$t0")s. Artifacts:"
echo "[demo]   $out/nested.md, $out/nested.csv   the comparison"
echo "[demo]   build/logs/bench-nested-$kid.log   the whole console (L1 and both L2s)"
echo "[demo]   make bench                          the full benchmark (simulator + 5 rounds, undercommitted case)"
grep -q '^FAIL' "$PVLOCK_ROOT/build/results/bench-nested.txt" && {
	echo "[demo] some checks failed:"
	grep '^FAIL' "$PVLOCK_ROOT/build/results/bench-nested.txt" | sed 's/^/[demo]   /'
	rc=1
}
exit $rc
