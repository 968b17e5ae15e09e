#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 KVM guest for the host-module tests. Its role comes from the kernel
# command line (PVLOCK_ROLE=...), set by the L1 payload:
#   pvlock   pvlock_guest (adaptive) + locktorture in two phases; between
#            them the guest's counters are printed for the L1 to compare
#            with the host's; during phase 2 the L1 unloads and reloads
#            pvlock_host, and the guest must re-register by itself. Then,
#            with PVLOCK_CROSS=load|yield and the L1's word on ttyS1, the
#            cross-VM step: "load" runs locktorture until told to stop,
#            "yield" (otherwise idle) issues yields from CPU 0 with the
#            pvlock_crossyield test module, which only another VM can serve
#   plain    locktorture only, no pvlock_guest
#   hostile  the pvlock_hostile test module and a user-mode hypercall,
#            then it idles until the L1 kills it
#   attacker pvlock_hostile attack=1 (busy threads, fake critical
#            sections), fake_cs switched on and off on the L1's word
#   rounds   no pvlock_guest: a locktorture run per word from the L1
#            ("round N"), each run's writes reported
# Markers for the L1 (which reads this console): "PVLOCK-MARK <what>".
. /lib/pvtest.sh

role=$(sed -n 's/.*PVLOCK_ROLE=\([a-z]*\).*/\1/p' /proc/cmdline)
expect $(case $role in pvlock) echo $((8 + 2 * $(grep -c PVLOCK_CROSS=yield /proc/cmdline))) ;; plain) echo 3 ;; hostile|attacker) echo 24 ;; rounds) echo 2 ;; *) echo 1 ;; esac)
secs=${PVLOCK_LT_SECS:-20}
q=pvlock-query
mark() { echo "PVLOCK-MARK $*"; }

status_field() {	# status_field NAME: a field of "pvlockctl -j -G status"
	pvlockctl -j -G status 2>/dev/null | jq -r ".guest.$1"
}

wait_agreed() {	# wait_agreed SECONDS: handshake agreed and every CPU registered
	_i=0
	while [ $_i -lt $(($1 * 10)) ]; do
		if [ "$(status_field handshake)" = agreed ] &&
		   [ "$(status_field registered)" = "$(nproc)" ]; then
			return 0
		fi
		usleep 100000
		_i=$((_i + 1))
	done
	return 1
}

# locktorture with verbose=0 here and in every payload: its threads' "task
# started" lines are printed as they start, after insmod has returned, and
# land inside the line the payload writes next (seen: "PVLOCK-MARK cros[
# 136.7] spin_lock-torture: lock_torture_writer task started", a mark the
# L1 then never found); its statistics and "End of test" come anyway
torture() {	# torture SECONDS: one locktorture run; PASS/FAIL as NAME
	_n0=$(dmesg | wc -l)
	insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
		nwriters_stress=$((2 * $(nproc))) || { fail "$2" "insmod locktorture"; return; }
	sleep "$1"
	rmmod locktorture
	_out=$(dmesg | tail -n +$((_n0 + 1)) | grep -E 'Writes *:|End of test')
	if echo "$_out" | grep -q 'End of test: SUCCESS' && echo "$_out" | grep -q 'Fail: 0'; then
		pass "$2" "$(echo "$_out" | grep -o 'Total: *[0-9]*' | head -1)"
	else
		fail "$2" "$(echo "$_out" | tr '\n' ' ')"
	fi
}

cross_step() {
	_c=$(sed -n 's/.*PVLOCK_CROSS=\([a-z]*\).*/\1/p' /proc/cmdline)
	[ -n "$_c" ] || return 0
	ctl_open
	case $_c in
	load)
		insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
			nwriters_stress=$((2 * $(nproc))) || fail cross-load "insmod locktorture"
		mark cross-loaded
		ctl_wait cross-stop 120 || fail cross-stop "no word from the L1"
		rmmod locktorture
		;;
	yield)
		mark cross-ready
		# the L1 waits up to 240 s for b's locktorture, then up to 60 s
		# for us: our own wait must outlast both (6.1's CI run gave up
		# at 120 s while b was still loading)
		if ctl_wait cross-go 360; then
			_n0=$(dmesg | wc -l)
			check crossyield-insmod insmod /pvlock/pvlock_crossyield.ko
			dmesg | tail -n +$((_n0 + 1)) | grep -o 'PVLOCK-\(RESULT\|CROSS\) .*'
			rmmod pvlock_crossyield
		else
			fail cross-go "no word from the L1"
		fi
		mark cross-done
		;;
	esac
}

case $role in
pvlock)
	check insmod insmod /pvlock/pvlock_guest.ko mode=adaptive
	if wait_agreed 15; then
		pass handshake-agreed "$(pvlockctl -G status | grep -E 'handshake|registered' | tr -s ' ' | tr '\n' ' ')"
	else
		fail handshake-agreed "$(pvlockctl -G status | tr '\n' ' ')"
	fi
	check torture-module insmod /lt/torture.ko
	torture "$secs" locktorture-phase1
	# Between phases the guest's counters move only with the kernel's own
	# lock waits: the L1 reads the host's between these two snapshots.
	echo "PVLOCK-GSTATS $($q guest-stats | jq -c 'del(.hist)')"
	mark phase1-done
	sleep 20
	echo "PVLOCK-GSTATS2 $($q guest-stats | jq -c 'del(.hist)')"
	mark phase2-started
	torture $((secs + 25)) locktorture-phase2
	if wait_agreed 20; then
		pass reregistered-after-host-reload "$(status_field registered) CPUs"
	else
		fail reregistered-after-host-reload "$(pvlockctl -G status | tr '\n' ' ')"
	fi
	cross_step
	check rmmod-torture rmmod torture
	check unload guest_unload
	;;
plain)
	check torture-module insmod /lt/torture.ko
	mark plain-running
	torture $((secs * 2)) locktorture
	check rmmod-torture rmmod torture
	;;
hostile)
	# the module runs its cases at load and reports each one
	insmod /pvlock/pvlock_hostile.ko || fail hostile-insmod "$(dmesg | tail -3 | tr '\n' ' ')"
	dmesg | grep -o 'PVLOCK-\(RESULT\|INFO\) .*'
	out=$(pvlock-hc-user 2>&1); rc=$?
	if [ $rc -eq 0 ] && echo "$out" | grep -q 'ret=-1$'; then
		pass hostile-user-mode-hypercall "$out"
	else
		fail hostile-user-mode-hypercall "rc=$rc $out"
	fi
	mark hostile-done
	sleep 600	# the L1 kills this VM while it is registered
	;;
attacker)
	insmod /pvlock/pvlock_hostile.ko attack=1 || fail hostile-insmod "$(dmesg | tail -3 | tr '\n' ' ')"
	dmesg | grep -o 'PVLOCK-\(RESULT\|INFO\) .*'
	ctl_open
	mark attacker-ready
	while read -r -t 900 _l <&3; do
		case $_l in
		attack-on|attack-off)
			echo $([ "$_l" = attack-on ] && echo 1 || echo 0) > \
				/sys/module/pvlock_hostile/parameters/fake_cs
			sleep 1		# the module's controller follows within 0.1 s
			mark "$_l-done" ;;
		done) break ;;
		esac
	done
	dmesg | grep -o 'PVLOCK-INFO hostile-fake-cs.*' | sort | uniq -c | head -5
	check rmmod-hostile rmmod pvlock_hostile
	;;
rounds)
	check torture-module insmod /lt/torture.ko
	ctl_open
	mark rounds-ready
	while read -r -t 900 _l <&3; do
		case $_l in
		round*)
			_n0=$(dmesg | wc -l)
			insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
				nwriters_stress=$((2 * $(nproc))) || fail "$_l" "insmod locktorture"
			sleep "$secs"
			rmmod locktorture
			_w=$(dmesg | tail -n +$((_n0 + 1)) | grep -m1 'Writes:' | sed -n 's/.*Total: *\([0-9]*\).*/\1/p')
			echo "PVLOCK-ROUND ${_l#round } writes=${_w:-0}"
			mark "$_l-done" ;;
		done) break ;;
		esac
	done
	check rmmod-torture rmmod torture
	;;
*)
	fail role "unknown role '$role'"
	;;
esac
