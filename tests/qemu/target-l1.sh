#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 of the holder-targeting test: one L2 VM of 4 vCPUs on one L1 CPU (4x
# overcommitted) with pvlock_guest (adaptive) and pvlock_lockbench, pvlock_host
# loaded. With 2 vCPUs the other one is the holder by elimination; with 4 the
# host's choice matters. tests/qemu/target-l2.sh judges whom the directed
# yields reached.
. /lib/pvtest.sh
expect 4

secs=${PVLOCK_LT_SECS:-20}
check load-kvm load_kmods
check insmod-host insmod /pvlock/pvlock_host.ko
L2_APPEND="PVLOCK_TARGET_SECS=$secs"
run_l2 t 4 256 $((secs + 300)) /boot/l2.cpio.gz
wait_l2 t
info "host: $(pvlock-query host-vms | jq -c '[.[] | {name, yields: .stats.yields, same: .stats.yield_same_vm, none: .stats.yield_none}]')"
check rmmod-host rmmod pvlock_host
