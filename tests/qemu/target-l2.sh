#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 of the holder-targeting test (tests/qemu/target-l1.sh): the lock
# benchmark with pvlock's yield probe (guest-mod/probe.h) knows who held its
# lock when each waiter yielded and, from the host's answer
# (PVLOCK_F_YIELD_TO), which vCPU ran instead. At least 60% of the directed
# yields must reach the holder; printed beside it: what KVM's own PLE choice
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
same=$(echo " $tr" | sed -n 's/.* same_vm=\([0-9]*\).*/\1/p')
landed=$(echo " $tr" | sed -n 's/.* landed=\([0-9]*\).*/\1/p')
kvm=$(echo " $tr" | sed -n 's/.* kvm_expected_milli=\([0-9]*\).*/\1/p')
if [ -z "$same" ] || [ "$same" -lt 20 ]; then
	fail holder-targeted "too few directed yields to judge (${same:-none}; want 20): $tr"
elif [ $((landed * 100)) -ge $((same * 60)) ]; then
	pass holder-targeted "$landed of $same directed yields ($((landed * 100 / same))%) reached the vCPU holding the lock; KVM's PLE choice would have: $((kvm / 10 / same))%"
else
	fail holder-targeted "$landed of $same directed yields ($((landed * 100 / same))%) reached the holder, want 60%; KVM's PLE choice: $((kvm / 10 / same))%"
fi
check unload guest_unload
