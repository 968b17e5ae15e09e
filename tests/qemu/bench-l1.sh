#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 for the guest-overhead benchmark: one L2 KVM guest of 2 vCPUs, no
# pvlock_host. The L1 has 3 CPUs: each L2 vCPU alone on one of CPUs 1-2 (not
# overcommitted, and the same placement in every round), CPU 0 for the rest.
. /lib/pvtest.sh
expect 2
check load-kvm load_kmods
PVLOCK_L2_PIN=vcpu
run_l2 bench 2 256 ${PVLOCK_L2_TIMEOUT:-900} /boot/l2.cpio.gz
wait_l2 bench
