#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# TCG guest: pvlock_guest loads, registers its family, answers pvlockctl
# status (text and JSON), unloads cleanly; without it pvlockctl says what is
# missing and exits 1.
. /lib/pvtest.sh
expect 20

out=$(pvlockctl status 2>&1); rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'pvlock_guest.*not loaded\|neither pvlock_guest'; then
	pass status-without-module "rc=1"
else
	fail status-without-module "rc=$rc out=$out"
fi
out=$(pvlockctl -G status 2>&1); rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'pvlock_guest netlink family not found (is pvlock_guest.ko loaded?)'; then
	pass status-guest-missing-message
else
	fail status-guest-missing-message "rc=$rc out=$out"
fi

check insmod insmod /pvlock/pvlock_guest.ko
check livepatch-applied guest_patched
expect_out module-live '^live$' cat /sys/module/pvlock_guest/initstate
expect_out status-text 'version +[0-9]+\.[0-9]+\.[0-9]+ \(ABI 1\)' pvlockctl -G status
pvlockctl -G status | sed 's/^/PVLOCK-INFO /'
js=$(pvlockctl -j status)
if echo "$js" | jq -e '.guest.loaded == true and .guest.abi == 1 and (.guest.version | test("^[0-9]+[.][0-9]+[.][0-9]+$")) and .host.loaded == false' >/dev/null; then
	pass status-json "$js"
else
	fail status-json "$js"
fi
expect_out status-exit-0-with-one-module 'pvlock_guest:' pvlockctl status
expect_fail rmmod-refused-while-patched rmmod pvlock_guest
check unload guest_unload
out=$(pvlockctl -G status 2>&1); rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q 'pvlock_guest netlink family not found'; then
	pass status-after-unload
else
	fail status-after-unload "rc=$rc out=$out"
fi
check reload insmod /pvlock/pvlock_guest.ko
check reload-patched guest_patched

# A cumulative livepatch (as a distro ships) replaces every other livepatch:
# pvlock_guest must notice, say so, and still unload cleanly.
check klp-replace-load insmod /pvlock/klp_replace.ko
i=0
while [ -d /sys/kernel/livepatch/pvlock_guest ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
sleep 2	# the module's once-a-second worker notices
expect_out status-replaced 'livepatch +replaced by a cumulative livepatch' pvlockctl -G status
js=$(pvlockctl -j -G status)
if echo "$js" | jq -e '.guest.livepatch | test("replaced")' >/dev/null; then
	pass status-replaced-json
else
	fail status-replaced-json "$js"
fi
check rmmod-after-replace rmmod pvlock_guest
check klp-replace-disable sh -c 'echo 0 > /sys/kernel/livepatch/klp_replace/enabled'
i=0
while [ -d /sys/kernel/livepatch/klp_replace ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
check klp-replace-rmmod rmmod klp_replace
if grep -q pvlock /proc/modules; then fail no-module-left "$(grep pvlock /proc/modules)"; else pass no-module-left; fi
