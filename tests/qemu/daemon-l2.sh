#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 KVM guest of the daemon's nested tests: pvlock_guest (adaptive) and
# locktorture for PVLOCK_L2_SECS seconds, sampling every few seconds the host's
# threshold hint as this guest sees it (pvlockctl get host_threshold) and
# printing "PVLOCK-INFO sample t=S host_threshold=N handshake=H"; the L1
# payload reads those lines from this console.
. /lib/pvtest.sh
expect 5

secs=${PVLOCK_L2_SECS:-40}
if ! insmod /pvlock/pvlock_guest.ko mode=adaptive; then
	fail insmod "$(dmesg | grep pvlock | tail -3)"
	exit 1
fi
pass insmod
check torture insmod /lt/torture.ko
n0=$(dmesg | wc -l)
check lt-start insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
	nwriters_stress=$((2 * $(nproc)))
# by the clock: under nested TCG a loop turn takes seconds, not the 2 s slept
start=$(cut -d. -f1 /proc/uptime)
end=$((start + secs))
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
	st=$(pvlockctl -j -G status)
	h=$(echo "$st" | jq -r .guest.params.host_threshold)
	hs=$(echo "$st" | jq -r .guest.handshake | tr ' ' _)
	echo "PVLOCK-INFO sample t=$(($(cut -d. -f1 /proc/uptime) - start)) host_threshold=$h handshake=$hs"
	sleep 2
done
check lt-stop rmmod locktorture
out=$(dmesg | tail -n +$((n0 + 1)) | grep -E 'Writes:|End of test')
if echo "$out" | grep -q 'End of test: SUCCESS'; then
	pass locktorture "$(echo "$out" | grep -o 'Total: *[0-9]*' | head -1)"
else
	fail locktorture "$(echo "$out" | tr '\n' ' ')"
fi
pvlockctl -G stats --once -d 1 | sed 's/^/PVLOCK-SHOW [L2 stats] /' | head -14
