#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 under TCG with kvm_amd, no pvlock_host: two L2 guests of 2 vCPUs each
# run pvlock_guest and locktorture. The L1 has 3 CPUs: CPU 0 for itself,
# and vCPU k of each L2 alone on CPU 1 + k (run_l2, PVLOCK_L2_PIN=vcpu), so
# that the two L2s together are 2x overcommitted and one alone is not. In
# three phases of the L2s' own time each L2's adaptive threshold gets
# preemption to fall under and then a stretch without to rise in
# (guestkvm-l2.sh's threshold-falls-and-rises):
#   both together for half of the run;
#   a alone for a third (b paused: QEMU's "stop" holds its vCPUs and its
#   clock, so b's run does not go on meanwhile), then b alone (a paused);
#   both together for the rest.
# Left to chance (both L2s on one L1 CPU, no phases), the L2 that started
# first never had the other one gone, and its own two vCPUs preempted each
# other anyway (CI failed on it once: 1 fall, 0 rises, on both of a's CPUs).
. /lib/pvtest.sh
expect 6

secs=${PVLOCK_LT_SECS:-45}	# the L2s' locktorture run (test-guest.sh gives both)
# alone A B: A alone, B stopped; whether QEMU said B was paused
alone() {
	l2_mon "$2" stop
	l2_mon "$2" "info status"
	sleep $((secs / 3))
	l2_mon "$2" cont
	mon_log "$2" | grep -q 'VM status: paused'
}
mon_log() { tr -d '\r' < "/tmp/l2-$1.mon.log"; }
check load-kvm load_kmods
[ -c /dev/kvm ] && pass dev-kvm || fail dev-kvm "no /dev/kvm"
L2_CTL=1 PVLOCK_L2_PIN=vcpu
run_l2 a 2 256 300 /boot/l2.cpio.gz
run_l2 b 2 256 300 /boot/l2.cpio.gz
if wait_mark a ready 240 && wait_mark b ready 240; then
	pass l2s-ready
	l2_say a go
	l2_say b go
	sleep $((secs / 2))
	if alone a b && alone b a; then
		pass phases "a alone, then b alone, $((secs / 3)) s each, after $((secs / 2)) s together"
	else
		fail phases "QEMU did not report a stopped L2: $(mon_log a | tail -2 | tr '\n' ' ') / $(mon_log b | tail -2 | tr '\n' ' ')"
	fi
else
	fail l2s-ready "$(tail -2 /tmp/l2-a.log /tmp/l2-b.log | tr '\n' ' ')"
	fail phases "not run"
fi
wait_l2 a
wait_l2 b
