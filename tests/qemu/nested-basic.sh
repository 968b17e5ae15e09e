#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 under TCG (-cpu max: SVM + NPT): load kvm and kvm_amd, load
# pvlock_host, start a real L2 KVM guest that loads pvlock_guest.
. /lib/pvtest.sh
expect 8

check load-kvm load_kmods
if [ -c /dev/kvm ]; then pass dev-kvm; else fail dev-kvm "no /dev/kvm after loading kvm_amd"; fi
check insmod-host insmod /pvlock/pvlock_host.ko
expect_out host-status 'version +[0-9.]+ \(ABI 1\)' pvlockctl -H status
pvlockctl -H status | sed 's/^/PVLOCK-SHOW [L1] /'
js=$(pvlockctl -j -H status)
if echo "$js" | jq -e '.host.loaded == true and .host.abi == 1' >/dev/null; then
	pass host-status-json
else
	fail host-status-json "$js"
fi

run_l2 a 2 256 150 /boot/l2.cpio.gz
wait_l2 a

check rmmod-host rmmod pvlock_host
out=$(pvlockctl -H status 2>&1); rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'pvlock_host netlink family not found'; then
	pass host-status-after-unload
else
	fail host-status-after-unload "rc=$rc out=$out"
fi
