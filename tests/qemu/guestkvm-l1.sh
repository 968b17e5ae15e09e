#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 under TCG with kvm_amd, no pvlock_host: two L2 guests of 2 vCPUs each
# (2x overcommitted on L1's 2 vCPUs) run pvlock_guest and locktorture.
. /lib/pvtest.sh
expect 4

check load-kvm load_kmods
[ -c /dev/kvm ] && pass dev-kvm || fail dev-kvm "no /dev/kvm"
run_l2 a 2 256 300 /boot/l2.cpio.gz
run_l2 b 2 256 300 /boot/l2.cpio.gz
wait_l2 a
wait_l2 b
