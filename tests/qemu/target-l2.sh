#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 of the holder-targeting test (tests/qemu/target-l1.sh): the lock
# benchmark with pvlock's yield probe (guest-mod/probe.h) knows who held its
# lock when each waiter yielded and, from the host's answer
# (PVLOCK_F_YIELD_TO), which vCPU ran instead. At least 60% of the directed
# yields issued while a vCPU held the lock must reach it; printed beside it:
# what KVM's own PLE choice
# (the first preempted vCPU, round robin) would have reached at the same
# moments.
. /lib/pvtest.sh
expect 7

secs=${PVLOCK_TARGET_SECS:-20}
check insmod insmod /pvlock/pvlock_guest.ko mode=adaptive
check patched guest_patched
registered() {
	[ "$(pvlockctl -j -G status | jq -r '.guest | "\(.handshake) \(.registered)"')" = "agreed $(ncpus)" ]
}
check registered wait_for 60 registered
dmesg -c > /dev/null
check lockbench insmod /bench/pvlock_lockbench.ko
sleep "$secs"
check lockbench-out rmmod pvlock_lockbench
tr=$(dmesg | sed -n 's/.*pvlock_lockbench: truth \(.*\)/\1/p' | tail -1)
info "truth: $tr; guest: $(pvlock-query guest-stats | jq -c '{waits, wait_early, yields, yield_same_vm, yield_halted}')"
# The share is over the same-VM yields issued while a vCPU held the lock:
# a yield issued while the lock was free (its holder had let go and the
# queue head, preempted, had not taken it yet) has no holder to reach; it
# goes to the waiter the lock passes to next. Those are counted beside it,
# and KVM's expected share is taken over the same yields.
val() { echo " $tr" | sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
same=$(val same_vm) owned=$(val same_vm_owned) landed=$(val landed) kvm=$(val kvm_expected_milli)
free=$(( ${same:-0} - ${owned:-0} ))
if [ -z "$owned" ] || [ "$owned" -lt 20 ]; then
	fail holder-targeted "too few directed yields with a holder to judge (${owned:-none}; want 20): $tr"
elif [ $((landed * 100)) -ge $((owned * 60)) ]; then
	pass holder-targeted "$landed of $owned directed yields issued while a vCPU held the lock ($((landed * 100 / owned))%) reached it; KVM's PLE choice would have: $((kvm / 10 / owned))%; $free more of $same with the lock free (no holder to reach)"
else
	fail holder-targeted "$landed of $owned directed yields issued while a vCPU held the lock ($((landed * 100 / owned))%) reached it, want 60%; KVM's PLE choice: $((kvm / 10 / owned))%; $free more of $same with the lock free"
fi
check unload guest_unload
