#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 (TCG, kvm_amd) with pvlock_host and three L2 VMs of 2 vCPUs each:
#   good     pvlock_guest + locktorture
#   plain    locktorture without pvlock_guest
#   hostile  the pvlock_hostile test module: every kind of bad hypercall
# The host must list all three (the plain one too, though it never calls),
# refuse each bad call with the documented error and count it, log at most
# a few lines, keep serving the good VM, and forget the hostile VM when it
# is killed while registered.
. /lib/pvtest.sh
expect 21

q=pvlock-query
secs=${PVLOCK_LT_SECS:-20}

vm_of() {	# vm_of NAME: that VM's object from the host's VM list
	$q host-vms | jq -c ".[] | select(.name == \"$1\")"
}

check load-kvm load_kmods
check insmod-host insmod /pvlock/pvlock_host.ko
n0=$(dmesg | wc -l)

L2_APPEND="PVLOCK_ROLE=pvlock PVLOCK_LT_SECS=$secs"
run_l2 good 2 256 $((secs * 3 + 240)) /boot/l2.cpio.gz
L2_APPEND="PVLOCK_ROLE=plain PVLOCK_LT_SECS=$secs"
run_l2 plain 2 256 $((secs * 3 + 240)) /boot/l2.cpio.gz
L2_APPEND="PVLOCK_ROLE=hostile"
run_l2 hostile 2 256 $((secs * 3 + 240)) /boot/l2.cpio.gz

# the plain VM: listed, never registered; its PLE exits (QEMU with the
# pause filter, scripts/build-qemu.sh) are KVM's own. Checked while its
# locktorture runs (it exits when done).
wait_mark plain plain-running 240
p=$(vm_of plain)
if [ -n "$p" ] && [ "$(echo "$p" | jq '.vcpus == 2 and .registered == 0')" = true ]; then
	pass plain-vm-listed "$(echo "$p" | jq -c '{id, name, pid, vcpus, registered}')"
else
	fail plain-vm-listed "$($q host-vms)"
fi
# the plain and the good VM's locktorture may end before the checks below
# are done, and the host forgets a VM that exits: each VM's object is kept
# once a second while it is listed
( while :; do
	l=$($q host-vms) || break
	n=0
	for v in plain good; do
		o=$(echo "$l" | jq -c ".[] | select(.name == \"$v\")")
		[ -n "$o" ] || continue
		echo "$o" > /tmp/$v.json.new && mv /tmp/$v.json.new /tmp/$v.json
		n=$((n + 1))
	done
	[ $n -gt 0 ] || break
	sleep 1
done ) &
sampler=$!
# the good VM's yields when the hostile VM starts its attack (the good VM's
# locktorture runs: it started first)
y0=$(vm_of good | jq .stats.yields)

if wait_mark hostile hostile-done 240; then
	y1=$(vm_of good | jq .stats.yields)
	[ -n "$y1" ] || y1=$(cat /tmp/good.json 2>/dev/null | jq .stats.yields)
	pass hostile-ran
else
	fail hostile-ran "$(tail -5 /tmp/l2-hostile.log | tr '\n' ' ')"
fi
h=$(vm_of hostile)
info "hostile VM: $h"
# what the hostile module sent (see tests/qemu/kmod/pvlock_hostile): each
# bad call counted in its class, exactly once
expect_count() {	# expect_count COUNTER N
	v=$(echo "$h" | jq ".stats.$1 // 0")
	if [ "$v" -eq "$2" ]; then pass "hostile-counted-$1" "$v"; else fail "hostile-counted-$1" "$v, want $2"; fi
}
expect_count bad_state 3
expect_count bad_args 4
expect_count bad_gpa 2
expect_count bad_cpu 3
# 3 bad records, then the registration storm's calls the bucket let through,
# whose record never passes either (the guest prints how many)
served=$(tr -d '\r' < /tmp/l2-hostile.log | sed -n 's/.*PVLOCK-INFO hostile-storm: .*; \([0-9]*\) served,.*/\1/p' | tail -1)
expect_count bad_record $((3 + ${served:-0}))
expect_count bad_double 3
# the storm stops at its 150th refusal (the guest checks the bound on the
# rest): the host counted exactly those
v=$(echo "$h" | jq '.stats.bad_rate // 0')
if [ "$v" -eq 150 ]; then pass hostile-counted-bad_rate "$v"; else fail hostile-counted-bad_rate "$v, want 150"; fi
expect_count bad_cpl 1
lines=$(dmesg | tail -n +$((n0 + 1)) | grep -c 'registration refused')
if [ "$lines" -le 12 ]; then
	pass hostile-log-rate-limited "$lines lines for $(echo "$h" | jq '.stats.bad_rate + .stats.bad_record') refusals"
else
	fail hostile-log-rate-limited "$lines lines"
fi

# the good VM was served all along the attack (its locktorture may be over
# by now: the figure of when the attack ended, y1, is read right after it)
if [ "${y1:-0}" -gt "${y0:-0}" ]; then
	pass good-vm-still-served "yields $y0 -> $y1 while the hostile VM ran"
else
	fail good-vm-still-served "yields $y0 -> $y1 while the hostile VM ran"
fi

# every PLE exit of the plain VM went to KVM's own loop, none through pvlock
# (and there were some: the pause-filter QEMU gives a spinning L2 PLE exits)
p=$(vm_of plain)
[ -n "$p" ] || p=$(cat /tmp/plain.json 2>/dev/null)
info "plain VM: $(echo "$p" | jq -c '.stats | {on_spin, on_spin_kvm, on_spin_boosts, boosts_given, cross_given}')"
if [ "$(echo "$p" | jq '.stats.on_spin > 0 and .stats.on_spin <= .stats.on_spin_kvm and .stats.on_spin_boosts == 0 and .stats.on_spin_ns == 0 and .stats.boosts_given == 0')" = true ]; then
	pass plain-vm-ple-kvms "$(echo "$p" | jq -c '.stats | {on_spin, on_spin_kvm}')"
else
	fail plain-vm-ple-kvms "$(echo "$p" | jq -c .stats)"
fi

# kill the hostile VM while it is registered
hid=$(echo "$h" | jq .id)
if [ "$(echo "$h" | jq .registered)" -ge 1 ]; then pass hostile-registered-before-kill; else fail hostile-registered-before-kill "$h"; fi
hpid=$(l2_pids hostile)
if [ -n "$hpid" ]; then kill -9 $hpid; else fail kill-hostile "no such process"; fi
i=0
while [ -n "$($q host-vms | jq ".[] | select(.id == $hid)")" ] && [ $i -lt 20 ]; do
	usleep 500000
	i=$((i + 1))
done
if [ -z "$($q host-vms | jq ".[] | select(.id == $hid)")" ]; then
	pass hostile-gone-after-kill "after $((i / 2)) s"
else
	fail hostile-gone-after-kill "$($q host-vms)"
fi
sleep 1
dmesg | tail -n +$((n0 + 1)) | grep -E 'pvlock_host: VM [0-9]+ \(hostile\) exited' >/dev/null &&
	pass hostile-exit-logged || fail hostile-exit-logged "$(dmesg | grep pvlock_host | tail -3)"

wait_l2 good
wait_l2 plain
kill $sampler 2>/dev/null
check rmmod-host rmmod pvlock_host
