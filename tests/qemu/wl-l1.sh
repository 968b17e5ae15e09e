#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 payload of the workload benchmark (scripts/bench-workloads.sh). Two L2
# VMs of 2 vCPUs (tests/qemu/wl-l2.sh) boot once; the L1 then runs, level by
# level, rounds of every arm in a rotating order, and in each arm every
# workload in both VMs at once (one VM alone when undercommitted):
#   levels  under: VM a alone, its vCPU k on L1 CPU 1 + k (1 vCPU per CPU)
#           2x:    both VMs, vCPU k of each on CPU 1 + k (2 vCPUs per CPU)
#           4x:    both VMs, all 4 vCPUs on CPU 1
#           (L1 CPU 0 runs the VMs' other QEMU threads and nothing else:
#           nested SVM under TCG corrupts L2 vCPU threads' stacks there)
#   arms    none:   no pvlock module in the L1 or the L2s
#           stock:  pvlock_guest in stock mode, no pvlock_host
#           pvlock: pvlock_guest adaptive, pvlock_host and pvlockd
#           stock2: "stock" again: the instrument's own noise (A/A)
. /lib/pvtest.sh
# load-kvm and each L2 ran (the measurements are the report's, not results)
expect 3

levels=$(echo "${PVLOCK_WL_LEVELS:-under 2x 4x}" | tr % " ")
rounds=${PVLOCK_WL_ROUNDS:-8}
secs=${PVLOCK_WL_SECS:-8}
wls=$(echo "${PVLOCK_WL_LIST:-build sysbench hackbench redis}" | tr % " ")
arms=$(echo "${PVLOCK_WL_ARMS:-none stock pvlock stock2}" | tr % " ")
host_on=0
seq=0

host() {	# host on|off: pvlock_host and pvlockd
	if [ "$1" = on ] && [ $host_on = 0 ]; then
		insmod /pvlock/pvlock_host.ko || fail host-load
		pvlockd > /tmp/pvlockd.log 2>&1 &
		PVLOCKD=$!
		host_on=1
	elif [ "$1" = off ] && [ $host_on = 1 ]; then
		kill "$PVLOCKD" && wait "$PVLOCKD"
		rmmod pvlock_host || fail host-unload
		host_on=0
	fi
}

# place NAME CPUS: every vCPU thread of L2 NAME on L1 CPUs CPUS ("k" for
# vCPU k on CPU 1 + k)
place() {
	for _c in $(l2_vcpu_tids "$1"); do
		_k=${_c%%:*}
		if [ "$2" = k ]; then _to=$((1 + _k % 2)); else _to=$2; fi
		taskset -p -c "$_to" "${_c##*:}" > /dev/null || fail "place-$1" "vCPU $_k"
	done
}

say_all() {	# say_all "LINE" MARK VM...: LINE to each VM, then wait for MARK from each
	_line=$1 _mark=$2
	shift 2
	for _n in "$@"; do l2_say "$_n" "$_line"; done
	for _n in "$@"; do
		wait_mark "$_n" "$_mark" 900 || { fail "wl-$_n-$_mark" "no answer"; return 1; }
	done
}

up() { read -r _u _i < /proc/uptime; echo "${_u%.*}${_u#*.}"; }

# order R: the arms of round R (williams in lib/pvtest.sh)
order() {
	# shellcheck disable=SC2086
	williams "$1" $arms
}

placement() {	# placement LEVEL: where the level runs the VMs; sets vms
	case $1 in
	under) vms=a; place a k; place b 2 ;;
	2x) vms="a b"; place a k; place b k ;;
	4x) vms="a b"; place a 1; place b 1 ;;
	*) fail "wl-level-$1" "unknown level"; return 1 ;;
	esac
}

# revive LEVEL ROUND: an L2 that died (its QEMU ended: a guest panic, with
# -no-reboot) costs its round, not the run: the round is dropped (a
# "PVLOCK-WLDROP" line: the report leaves out every run of it), the VM boots
# again and the next round begins with every arm set afresh. A VM that hangs
# without dying, or a third death, still ends the run.
revived=0
dead_vms() {	# the L2s whose QEMU has ended
	for _n in a b; do [ -e "/tmp/l2-$_n.rc" ] && echo "$_n"; done
}
boot_l2() {	# boot_l2 NAME: one of the two workload VMs
	run_l2 "$1" 2 512 "$to" /boot/l2.cpio.gz
}
revive() {
	_dead=$(dead_vms)
	[ -n "$_dead" ] || return 1
	for _n in $_dead; do
		fail "wl-$_n-died" "level $1 round $2 arm $arm: the L2 ended (qemu rc=$(cat "/tmp/l2-$_n.rc"))"
		echo "PVLOCK-WLDROP level=$1 round=$2 vm=$_n arm=$arm"
		revived=$((revived + 1))
		[ $revived -le 2 ] || return 1
		eval "wait \$L2_PID_$_n"
		boot_l2 "$_n"
		wait_mark "$_n" ready 600 || { fail "wl-$_n-ready" "the L2 did not get ready again"; return 1; }
	done
	host off
	placement "$1"
}

level() {	# level NAME
	placement "$1" || return 1
	info "level $1: VMs $vms"
	# round 0 warms up (code translated afresh after the move, caches): each
	# workload once, not counted, in one arm: the one that ends the Williams
	# row 0, so that round 1 follows the arm it would follow in the cycle
	# (all four arms of row 0 took 2 minutes per level)
	r=$((1 - ${PVLOCK_WL_WARMUP:-1}))
	while [ $r -le "$rounds" ]; do
		_arms=$(order $r)
		if [ $r = 0 ]; then for _a in $_arms; do :; done; _arms=$_a; fi
		for arm in $_arms; do
			# a VM that died while idle (VM b undercommitted) is seen here,
			# before the arm change would wait for it
			if [ -n "$(dead_vms)" ]; then
				revive "$1" $r && break
				return 1
			fi
			seq=$((seq + 1))
			t0=$(up)
			case $arm in pvlock) host on ;; *) host off ;; esac
			case $arm in stock2) garm=stock ;; *) garm=$arm ;; esac
			# the arm changes with each VM's vCPUs on different CPUs and
			# in one VM at a time: loading or unloading pvlock_guest (a
			# livepatch transition: text pokes with IPIs, RCU tasks grace
			# periods) took ~50 s with 4 vCPUs on one CPU, 28-29 s in the
			# idle VM b of the undercommitted level (both its vCPUs on CPU
			# 2), and 13-22 s in each VM with both VMs changing at once; the
			# level's placement is restored before anything is measured.
			# The idle VM follows too: "none" means no module anywhere
			place a k; place b k
			ok=1
			for n in a b; do
				say_all "arm $garm $seq" "arm-$seq" "$n" || { ok=0; break; }
			done
			[ $ok = 1 ] || { revive "$1" $r && break; return 1; }
			placement "$1"
			info "level $1 round $r: $arm set up in $(($(up) - t0)) cs"
			ok=1
			for wl in $wls; do
				seq=$((seq + 1))
				_s0=$(vcpu_sched $vms)
				echo "PVLOCK-WLRUN level=$1 round=$r arm=$arm wl=$wl seq=$seq t=$(up)"
				if [ "${PVLOCK_WL_CRASH:-}" = "$1:$r:$arm:$wl" ]; then
					# the test of revive: VM a panics instead of doing this run
					l2_say a crash
				fi
				say_all "run $wl $secs $seq" "done-$seq" $vms || { ok=0; break; }
				echo "PVLOCK-WLSCHED seq=$seq$(vcpu_sched_diff "$_s0" "$(vcpu_sched $vms)")"
			done
			[ $ok = 1 ] || { revive "$1" $r && break; return 1; }
		done
		r=$((r + 1))
	done
}

check load-kvm load_kmods
L2_CTL=1
PVLOCK_L2_PIN=vcpu
to=$((rounds * 5 * 12 * (secs + 20) + 900))
boot_l2 a
boot_l2 b
for n in a b; do
	wait_mark "$n" ready 600 || fail "wl-$n-ready" "the L2 did not get ready"
done
for lv in $levels; do level "$lv" || break; done
host off
for n in a b; do l2_say "$n" quit; done
wait_l2 a
wait_l2 b
