#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 (TCG, kvm_amd) with pvlock_host and two L2 VMs of 2 vCPUs each running
# pvlock_guest and locktorture: 2x overcommitted on the L1's 2 vCPUs.
#   1. handshake and registration on both sides, yields served in the same
#      VM and across VMs, the VM list by name with counters, and the
#      guests' counters equal to the host's where both count the same event;
#   2. pvlock_host unloaded while both guests run locktorture, then loaded
#      again: the guests fall back, re-register by themselves, and their
#      locktorture still ends SUCCESS;
#   3. cross-VM yields on demand: b runs locktorture while a, otherwise
#      idle, yields from one CPU (pvlock_crossyield): only b's vCPUs can be
#      yielded to, and the host's counters on both sides move by what a saw.
. /lib/pvtest.sh
expect 19

q=pvlock-query
secs=${PVLOCK_LT_SECS:-20}

vm_of() {	# vm_of NAME: that VM's object from the host's VM list
	$q host-vms | jq -c ".[] | select(.name == \"$1\")"
}

check load-kvm load_kmods
check insmod-host insmod /pvlock/pvlock_host.ko
st=$($q host-status)
info "host status: $st"
hooks=$(echo "$st" | jq .hooks)
# 1 hypercall, 2 on_spin, 4 preempt notifiers
if [ $((hooks & 5)) -eq 5 ]; then pass hooks "0x$(printf %x "$hooks")"; else fail hooks "$st"; fi

L2_CTL=1
L2_APPEND="PVLOCK_ROLE=pvlock PVLOCK_LT_SECS=$secs PVLOCK_CROSS=yield"
run_l2 a 2 256 $((secs * 3 + 240)) /boot/l2.cpio.gz
L2_APPEND="PVLOCK_ROLE=pvlock PVLOCK_LT_SECS=$secs PVLOCK_CROSS=load"
run_l2 b 2 256 $((secs * 3 + 240)) /boot/l2.cpio.gz

# each guest's counters are compared with the host's read right after that
# guest's first snapshot (the guests do not reach it together)
if wait_mark a phase1-done 240 && vms_a=$($q host-vms) &&
   wait_mark b phase1-done 240 && vms_b=$($q host-vms); then
	pass phase1-reached
else
	fail phase1-reached "$(tail -3 /tmp/l2-a.log /tmp/l2-b.log | tr '\n' ' ')"
fi

vms=$($q host-vms)
pvlockctl -H status | sed 's/^/PVLOCK-SHOW [L1] /'
echo "$vms" | jq -r '.[] | "PVLOCK-SHOW [L1] VM \(.id) \(.name) pid \(.pid) vcpus \(.vcpus) registered \(.registered) yields \(.stats.yields) same \(.stats.yield_same_vm) cross \(.stats.yield_cross_vm) halts \(.stats.halts) preempt \(.stats.preemptions) ecs \(.stats.ecs_preemptions)"'
info "per-vCPU: $($q host-stats vcpu | jq -c '[.[] | {vm, vcpu, y: .stats.yields, p: .stats.preemptions, e: .stats.ecs_preemptions}]')"
for n in a b; do
	v=$(echo "$vms" | jq -c ".[] | select(.name == \"$n\")")
	if [ -n "$v" ] && [ "$(echo "$v" | jq '.registered == 2 and .vcpus == 2 and .abi == 1')" = true ]; then
		pass "vm-$n-listed" "$(echo "$v" | jq -c '{id, name, pid, vcpus, registered, abi}')"
	else
		fail "vm-$n-listed" "$vms"
	fi
done
# The guests' own counts bracket the host's (read between each guest's two
# snapshots): the same events counted on both sides, the yields issued and
# their outcome; the bracket must be narrow (idle kernel lock waits only).
wait_mark a phase2-started 60 && wait_mark b phase2-started 60
for n in a b; do
	if [ $n = a ]; then vn=$vms_a; else vn=$vms_b; fi
	v=$(echo "$vn" | jq -c ".[] | select(.name == \"$n\")")
	g1=$(sed -n 's/^PVLOCK-GSTATS //p' "/tmp/l2-$n.log" | tr -d '\r' | tail -1)
	g2=$(sed -n 's/^PVLOCK-GSTATS2 //p' "/tmp/l2-$n.log" | tr -d '\r' | tail -1)
	if [ -z "$g1" ] || [ -z "$g2" ] || [ -z "$v" ]; then
		fail "vm-$n-counters-agree" "guest: '$g1' '$g2'"
		continue
	fi
	gy1=$(echo "$g1" | jq -r '[.yields, .yield_same_vm, .yield_cross_vm, .yield_halted] | join(" ")')
	gy2=$(echo "$g2" | jq -r '[.yields, .yield_same_vm, .yield_cross_vm, .yield_halted] | join(" ")')
	hy=$(echo "$v" | jq -r '[.stats.yields, .stats.yield_same_vm, .stats.yield_cross_vm, .stats.halts] | join(" ")')
	ok=$(echo "$gy1 $hy $gy2" | awk '{
		ok = $1 > 0 && $9 - $1 <= $1 / 10 + 50
		for (i = 1; i <= 4; i++) if (!($i <= $(i + 4) && $(i + 4) <= $(i + 8))) ok = 0
		print ok ? "yes" : "no" }')
	if [ "$ok" = yes ]; then
		pass "vm-$n-counters-agree" "guest $gy1 <= host $hy <= guest $gy2 (yields same cross halted)"
	else
		fail "vm-$n-counters-agree" "guest $gy1 / host $hy / guest $gy2 (yields same cross halted)"
	fi
done
same=$(echo "$vms" | jq '[.[].stats.yield_same_vm] | add')
cross=$(echo "$vms" | jq '[.[].stats.yield_cross_vm] | add')
# Same-VM yields per VM and second of phase 1's locktorture (4 vCPUs on one
# L1 CPU: a preempted holder and its waiters are the usual case), not "at
# least one". Measured: 103 per VM-second on 6.1, 10 on 6.12 (whose EEVDF
# preempts the vCPUs four times as often, and whose waiters yield across
# VMs more). The floor, a fifth of the lower figure, leaves room for nested
# TCG's run-to-run spread (up to 3x) and fails a yield path that mostly
# stopped serving.
rate_min=${PVLOCK_SAME_RATE_MIN:-2}
rate=$((same / (2 * secs)))
if [ "$rate" -ge "$rate_min" ]; then
	pass yields-same-vm "$same in ${secs} s of locktorture in 2 VMs: $rate per VM-second (>= $rate_min)"
else
	fail yields-same-vm "$same in ${secs} s of locktorture in 2 VMs: $rate per VM-second (want >= $rate_min): $vms"
fi
# With all four vCPUs on one L1 CPU a waiter's own VM nearly always has a
# vCPU worth its yield, so how many go across here is chance; step 3 makes
# them happen.
info "cross-VM yields during phase 1: $cross"
# PLE exits (QEMU with the pause filter): the pvlock guests opted into
# cross-VM boosting, so each reached pvlock's on_spin choice (its cost is
# counted), which yielded itself or handed over to KVM's own loop
ple=$(echo "$vms" | jq -c '[.[] | select(.name == "a" or .name == "b") | .stats] | {on_spin: (map(.on_spin) | add), on_spin_kvm: (map(.on_spin_kvm) | add), on_spin_boosts: (map(.on_spin_boosts) | add), on_spin_ns: (map(.on_spin_ns) | add)}')
if [ "$(echo "$ple" | jq '.on_spin > 0 and .on_spin_ns > 0')" = true ]; then
	pass ple-on-spin-decided "$ple"
else
	fail ple-on-spin-decided "$ple"
fi
ecs=$(echo "$vms" | jq '[.[].stats.ecs_preemptions] | add')
pre=$(echo "$vms" | jq '[.[].stats.preemptions] | add')
if [ "$pre" -gt 0 ] && [ "$ecs" -le "$pre" ]; then
	pass preemptions-seen "preemptions=$pre of which in an eCS: $ecs"
else
	fail preemptions-seen "preemptions=$pre ecs=$ecs"
fi

# 2. unload and reload under load
if wait_mark a phase2-started 60 && wait_mark b phase2-started 60; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	check rmmod-host-under-load rmmod pvlock_host
	info "rmmod pvlock_host took $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }') s with 4 vCPUs registered"
	if [ -d /sys/module/pvlock_host ]; then fail host-gone; else pass host-gone; fi
	sleep 4
	check reload-host insmod /pvlock/pvlock_host.ko
	i=0
	while [ "$($q host-status | jq .registered)" != 4 ] && [ $i -lt 40 ]; do
		usleep 500000
		i=$((i + 1))
	done
	r=$($q host-status | jq .registered)
	if [ "$r" = 4 ]; then pass guests-reregistered "after $((i / 2)) s"; else fail guests-reregistered "registered=$r"; fi
else
	fail phase2-reached "$(tail -3 /tmp/l2-a.log /tmp/l2-b.log | tr '\n' ' ')"
fi

# 3. cross-VM yields on demand
if wait_mark b cross-loaded 240 && wait_mark a cross-ready 60; then
	sleep 2		# b's locktorture under way
	v0=$($q host-vms)
	l2_say a cross-go
	wait_mark a cross-done 120 || fail cross-done "$(tail -3 /tmp/l2-a.log | tr '\n' ' ')"
	v1=$($q host-vms)
	l2_say b cross-stop
	got=$(sed -n 's/.*PVLOCK-CROSS .* cross=\([0-9]*\) .*/\1/p' /tmp/l2-a.log | tail -1)
	# delta VM COUNTER: how much VM's COUNTER moved during the step
	delta() {
		echo "$v0" "$v1" | jq -s "(.[1][] | select(.name == \"$1\") | .stats.$2) -
			(.[0][] | select(.name == \"$1\") | .stats.$2)"
	}
	ya=$(delta a yield_cross_vm) ga=$(delta a cross_given) rb=$(delta b cross_received)
	os=$(delta a on_spin_boosts)
	info "cross step: guest a saw ${got:-?} cross-VM yields; host: a yield_cross_vm +$ya cross_given +$ga, b cross_received +$rb"
	# a's own kernel waits for its locks meanwhile, and pvlock_guest's yields
	# may go across too: the host counts at least what the module saw; a's
	# PLE exits (the pause-filter QEMU) can give cross-VM boosts as well
	if [ -n "$got" ] && [ "$got" -gt 0 ] && [ "$ya" -ge "$got" ] &&
	   [ "$ga" -ge "$got" ] && [ "$ga" -le $((ya + os)) ] && [ "$rb" -ge "$ga" ]; then
		pass yields-cross-vm "a: $got yields served by b's vCPUs; host +$ya/+$ga, b received +$rb"
	else
		fail yields-cross-vm "guest ${got:-none}, host a +$ya yield_cross_vm +$os on_spin_boosts +$ga cross_given, b +$rb cross_received"
	fi
else
	fail cross-step-reached "$(tail -3 /tmp/l2-a.log /tmp/l2-b.log | tr '\n' ' ')"
	l2_say b cross-stop
fi

wait_l2 a
wait_l2 b
check rmmod-host rmmod pvlock_host
