#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 for the guest-overhead benchmark: one L2 KVM guest of 2 vCPUs (not
# overcommitted on L1's 2 vCPUs), no pvlock_host.
. /lib/pvtest.sh
check load-kvm load_kmods
PVLOCK_L2_PIN=0	# free to use both L1 CPUs: not overcommitted
run_l2 bench 2 256 ${PVLOCK_L2_TIMEOUT:-900} /boot/l2.cpio.gz
wait_l2 bench
