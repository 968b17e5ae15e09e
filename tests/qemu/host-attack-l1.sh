#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 (TCG with the pause filter, kvm_amd) with pvlock_host and two L2 VMs of
# 2 vCPUs sharing one L1 CPU: a plain VM (no pvlock_guest) running
# locktorture rounds, and a hostile VM whose every vCPU is busy in its
# kernel and, in the "on" rounds, registered with an eCS word stuck at
# "inside a critical section" (pvlock_hostile attack=1, fake_cs). The CPU
# load of the hostile VM is the same in every round; only the lie differs.
#   - the plain VM's spinning reaches L1's KVM as PLE exits (kvm_exit reason
#     PAUSE), and every one of them is KVM's own: pvlock neither chooses
#     nor yields for it, and the hostile VM receives nothing;
#   - the plain VM's locktorture writes with the lie on and off, rounds
#     alternating: the on/off ratio lies within the spread of same-arm
#     round pairs (the A/A noise of this setup).
. /lib/pvtest.sh
expect 9

q=pvlock-query
rsecs=${PVLOCK_ROUND_SECS:-8}
rounds=${PVLOCK_ROUNDS:-3}

vm_of() {	# vm_of JSON NAME
	echo "$1" | jq -c ".[] | select(.name == \"$2\")"
}
delta() {	# delta BEFORE AFTER NAME COUNTER
	echo "$1" "$2" | jq -s "(.[1][] | select(.name == \"$3\") | .stats.$4) -
		(.[0][] | select(.name == \"$3\") | .stats.$4)"
}

check load-kvm load_kmods
check insmod-host insmod /pvlock/pvlock_host.ko
echo 'hist:keys=exit_reason:vals=hitcount' > /sys/kernel/tracing/events/kvm/kvm_exit/trigger ||
	fail kvm-exit-hist "no hist trigger"

L2_CTL=1
L2_APPEND="PVLOCK_ROLE=attacker"
run_l2 hostile 2 256 1500 /boot/l2.cpio.gz
L2_APPEND="PVLOCK_ROLE=rounds PVLOCK_LT_SECS=$rsecs"
run_l2 plain 2 256 1500 /boot/l2.cpio.gz
wait_mark hostile attacker-ready 300 || fail attacker-ready "$(tail -3 /tmp/l2-hostile.log | tr '\n' ' ')"
wait_mark plain rounds-ready 300 || fail rounds-ready "$(tail -3 /tmp/l2-plain.log | tr '\n' ' ')"

# rounds: on off on off ... (the hostile VM's load is the same in both)
won= woff= k=0 on_spin=0 on_kvm=0 boosts=0 given=0 hrecv=0 hown=0 hecs=0 ns=0
for r in $(seq "$rounds"); do
	for arm in on off; do
		k=$((k + 1))
		l2_say hostile "attack-$arm"
		wait_mark hostile "attack-$arm-done" 60 || fail "attack-$arm-$k" "no answer"
		if [ $arm = on ]; then
			wait_for 10 sh -c "[ \"\$($q host-vms | jq '.[] | select(.name == \"hostile\") | .registered')\" = 2 ]" ||
				info "round $k: hostile registered $($q host-vms | jq '.[] | select(.name == "hostile") | .registered')"
		fi
		v0=$($q host-vms)
		l2_say plain "round $k"
		wait_mark plain "round $k-done" $((rsecs + 120)) || fail "round-$k" "no answer"
		v1=$($q host-vms)
		w=$(sed -n "s/^PVLOCK-ROUND $k writes=\([0-9]*\)/\1/p" /tmp/l2-plain.log | tail -1)
		d_on=$(delta "$v0" "$v1" plain on_spin) d_kvm=$(delta "$v0" "$v1" plain on_spin_kvm)
		d_b=$(delta "$v0" "$v1" plain on_spin_boosts) d_g=$(delta "$v0" "$v1" plain cross_given)
		d_gb=$(delta "$v0" "$v1" plain boosts_given) d_ns=$(delta "$v0" "$v1" plain on_spin_ns)
		d_hr=$(delta "$v0" "$v1" hostile cross_received) d_hb=$(delta "$v0" "$v1" hostile boosts_received)
		d_he=$(delta "$v0" "$v1" hostile ecs_preemptions)
		info "round $k ($arm): plain writes ${w:-?}; plain PLE exits $d_on (KVM's $d_kvm, pvlock's $d_b), boosts given $d_gb (cross $d_g); hostile received $d_hb (cross $d_hr), preempted in its fake eCS $d_he"
		if [ $arm = on ]; then won="$won ${w:-0}"; hecs=$((hecs + d_he)); else woff="$woff ${w:-0}"; fi
		on_spin=$((on_spin + d_on)) on_kvm=$((on_kvm + d_kvm)) boosts=$((boosts + d_b))
		given=$((given + d_g + d_gb)) hrecv=$((hrecv + d_hr)) hown=$((hown + d_hb - d_hr)) ns=$((ns + d_ns))
	done
done
l2_say hostile done
l2_say plain done

pauses=$(awk '/exit_reason: *119 / { for (i = 1; i <= NF; i++) if ($i == "hitcount:") print $(i + 1) }' \
	/sys/kernel/tracing/events/kvm/kvm_exit/hist)
if [ "${pauses:-0}" -gt 0 ] && [ "$on_spin" -gt 0 ]; then
	pass plain-ple-exits "kvm_exit reason PAUSE: ${pauses}; the plain VM's reached kvm_vcpu_on_spin $on_spin times"
else
	fail plain-ple-exits "kvm_exit PAUSE: ${pauses:-0}, plain on_spin: $on_spin"
fi
if [ "$on_spin" -gt 0 ] && [ "$boosts" = 0 ] && [ "$given" = 0 ] && [ "$ns" = 0 ]; then
	pass plain-served-by-kvm "$on_spin PLE exits ($on_kvm counted as KVM's own loop); pvlock chose for none (on_spin_ns 0) and gave none of its time away"
else
	fail plain-served-by-kvm "on_spin $on_spin, KVM's $on_kvm, pvlock's $boosts, time in pvlock's choice $ns ns, given $given"
fi
# nothing from another VM: the boosts a VM's vCPUs give each other (its own
# PLE exits, pvlock's choice since it registered) are its own time
if [ "$hecs" -gt 0 ] && [ "$hrecv" = 0 ]; then
	pass hostile-got-nothing "preempted $hecs times in its fake eCS, received 0 boosts from other VMs ($hown from its own vCPUs)"
else
	fail hostile-got-nothing "preempted in fake eCS $hecs, received $hrecv from other VMs ($hown from its own vCPUs)"
fi
# throughput: on/off ratio of the medians, against the spread of same-arm pairs
verdict=$(echo "$won|$woff" | awk -F'|' '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{
		n = split($1, on, " "); m = split($2, off, " ")
		lo = 1e9; hi = 0
		for (i = 1; i <= n; i++) for (j = 1; j <= n; j++) if (i != j && on[j] > 0) { r = on[i] / on[j]; if (r < lo) lo = r; if (r > hi) hi = r }
		for (i = 1; i <= m; i++) for (j = 1; j <= m; j++) if (i != j && off[j] > 0) { r = off[i] / off[j]; if (r < lo) lo = r; if (r > hi) hi = r }
		mo = median(on, n); mf = median(off, m)
		ratio = mf > 0 ? mo / mf : 0
		printf "%s ratio %.3f (median on %d, off %d); A/A spread %.3f-%.3f\n", (ratio >= lo && ratio <= hi && mo > 0) ? "ok" : "no", ratio, mo, mf, lo, hi
	}')
info "plain VM writes, lie on:$won; off:$woff"
case $verdict in
ok*) pass plain-throughput-kept "${verdict#ok }" ;;
*) fail plain-throughput-kept "${verdict#no }" ;;
esac
wait_l2 hostile
wait_l2 plain
check rmmod-host rmmod pvlock_host
