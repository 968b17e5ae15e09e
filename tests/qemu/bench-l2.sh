#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 payload of the nested benchmark: the lock-heavy workload
# (pvlock_lockbench), stock and pvlock in rounds of a Williams order
# so that drift cancels. pvlock_guest is loaded once (one livepatch) and
# switched between its "stock" mode (the kernel's algorithm: the baseline)
# and "adaptive". Before each measured run the guest says which variant it
# wants ("PVLOCK-MARK want-<variant> <round>") and waits until the L1 has
# the host side in place: pvlock_host unloaded for stock, loaded (guest
# registered) for pvlock. One "PVLOCK-BENCH" line per run. With
# PVLOCK_BENCH_REAL=WL (the demo), each run also runs the real workload WL of
# /lib/wl.sh for as long, right after the lock benchmark: one
# "PVLOCK-BENCH-REAL" line.
# PVLOCK_BENCH_ARMS=stock,pvlock (the default) names the arms, in the first
# round's order (then a Williams design: round_arms in lib/pvtest.sh, where
# arm_mode and arm_host say what each arm is); the ablation arms take
# one part of pvlock away: "adaptive" (the guest's adaptive mode, no
# pvlock_host), "stockhost" (stock mode with pvlock_host and pvlockd),
# "stocknod" (stock mode with pvlock_host alone), "nodaemon" (adaptive
# with pvlock_host, no pvlockd), "nocross" (pvlock with
# the host never yielding to another VM's vCPU), and "stock2", stock
# again: its ratio to stock is the instrument's own noise (A/A).
. /lib/pvtest.sh
expect 3

rounds=${PVLOCK_BENCH_ROUNDS:-5}
secs=${PVLOCK_BENCH_SECS:-20}
cs=${PVLOCK_BENCH_CS_NS:-2000}
think=${PVLOCK_BENCH_THINK_NS:-4000}
q=pvlock-query
name=$(hostname)

field() { pvlockctl -j -G status 2>/dev/null | jq -r ".guest.$1"; }

# the L1's word, on ttyS1: "go VARIANT ROUND" once the host side is in place
# for every VM, so that the VMs' runs overlap
ctl_open

wait_host() {	# wait_host ARM: until the host side matches the arm's
	_i=0
	while [ $_i -lt 600 ]; do
		_h=$(field handshake)
		if [ "$(arm_host "$1")" = off ] && [ "$_h" != agreed ]; then return 0; fi
		if [ "$(arm_host "$1")" != off ] && [ "$_h" = agreed ] && [ "$(field registered)" = "$(nproc)" ]; then
			return 0
		fi
		usleep 100000
		_i=$((_i + 1))
	done
	return 1
}

one() {	# one ARM ROUND
	$q guest-set mode="$(arm_mode "$1")"
	echo "PVLOCK-MARK want-$1 $2"
	ctl_wait "go $1 $2" 900 || { fail "bench-$1-$2-go" "no word from the L1"; return; }
	wait_host "$1" || { fail "bench-$1-$2-host" "host side not ready after 60 s"; return; }
	$q guest-reset
	n0=$(dmesg | wc -l)
	# the run itself, marked for the L1 on ttyS1 (bench-nested-l1.sh run_marks)
	echo "run-start $1 $2" > /dev/ttyS1
	insmod /bench/pvlock_lockbench.ko cs_ns="$cs" think_ns="$think" || { fail "bench-$1-$2" insmod; return; }
	sleep "$secs"
	rmmod pvlock_lockbench
	echo "run-end $1 $2" > /dev/ttyS1
	out=$(dmesg | tail -n +$((n0 + 1)))
	res=$(echo "$out" | sed -n 's/.*pvlock_lockbench: ops=\([0-9]*\) ns=\([0-9]*\).*/\1 \2/p' | tail -1)
	# per acquisition (fast path included) and per thread: the module's own figures
	acq=$(echo "$out" | sed -n 's/.*pvlock_lockbench: acq \(n=[0-9]* p50=[0-9]* p99=[0-9]* p999=[0-9]* max=[0-9]* jain=[0-9]*\).*/\1/p' | tail -1)
	truth=$(echo "$out" | sed -n 's/.*pvlock_lockbench: truth \(.*\)/\1/p' | tail -1)
	st=$($q guest-stats)
	if [ -n "$real" ]; then
		# a real program in the same setting, right after (the demo)
		wl_run "$real" "$secs"
		echo "PVLOCK-BENCH-REAL vm=$name round=$2 variant=$1 wl=$real ops=$OPS cs=$CS $EXTRA"
	fi
	set -- "$1" "$2" $res
	echo "PVLOCK-BENCH vm=$name round=$2 variant=$1 ops=${3:-0} ns=${4:-0} $acq ${truth:+truth_$(echo "$truth" | sed 's/ / truth_/g')} stats=$(echo "$st" | jq -c '{slowpath, pending, queued, spin_acquired, spins, wait_ns, waits, wait_early, halts, yields, yield_same_vm, yield_cross_vm, yield_halted, kicks, preempted_seen, threshold, threshold_changes, hist}')"
	echo "PVLOCK-MARK done-$1 $2"
}

real=${PVLOCK_BENCH_REAL:-}
if [ -n "$real" ]; then
	. /lib/wl.sh
	wl_setup || real=
fi
check insmod insmod /pvlock/pvlock_guest.ko mode=stock
check patched guest_patched
show=${PVLOCK_BENCH_SHOW:-0}
if [ "$show" -gt 0 ]; then
	# the demo's live part: pvlock on while the L1 shows its counters
	$q guest-set mode=adaptive
	echo "PVLOCK-MARK want-pvlock 0"
	ctl_wait "go pvlock 0" 900 || fail show-go "no word from the L1"
	wait_host pvlock || fail show-host "host side not ready after 60 s"
	insmod /bench/pvlock_lockbench.ko cs_ns="$cs" think_ns="$think"
	sleep "$show"
	rmmod pvlock_lockbench
	echo "PVLOCK-MARK done-pvlock 0"
fi
r=1
while [ $r -le "$rounds" ]; do
	for a in $(round_arms $r); do one "$a" $r; done
	r=$((r + 1))
done
pass bench-ran "$rounds rounds of ${secs}s per variant"
