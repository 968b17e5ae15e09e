#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 KVM guest: it really is a KVM guest with PV spinlocks, and
# pvlock_guest loads and answers there.
. /lib/pvtest.sh
expect 5

expect_out kvm-pv-spinlocks 'PV spinlocks enabled' dmesg
expect_out kvm-clock 'kvm-clock' dmesg
check insmod insmod /pvlock/pvlock_guest.ko
expect_out status 'version +[0-9.]+ \(ABI 1\)' pvlockctl -G status
pvlockctl -G status | sed 's/^/PVLOCK-SHOW [L2] /'
check unload guest_unload
