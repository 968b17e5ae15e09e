#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 payload of the workload benchmark (scripts/bench-workloads.sh): real
# programs from Debian packages (staged by scripts/workloads.sh), run on the
# L1's word. The L1 sends lines on ttyS1:
#   arm ARM SEQ        set the guest side: none (no pvlock_guest), stock
#                      (pvlock_guest in stock mode) or pvlock (adaptive);
#                      answer "PVLOCK-MARK arm-SEQ" once the host side the L1
#                      set up is seen (pvlock: handshake agreed, every CPU
#                      registered; else none)
#   run WL SECS SEQ    run workload WL for SECS seconds, print one
#                      "PVLOCK-WL" line, then "PVLOCK-MARK done-SEQ"
#   crash              panic at once (the test of the L1 reviving a dead VM)
#   quit
# Each workload is a loop of units of work for a fixed window; throughput is
# units done over the time to the last unit's end (no partial unit counted).
. /lib/pvtest.sh
# wl-ran (each run's figures are PVLOCK-WL lines for the report)
expect 1
. /lib/wl.sh

q=pvlock-query
name=$(hostname)
ncpu=$(ncpus)	# set_arm: every CPU registered
arm=none
ctl_open

guest_loaded() { [ -d /sys/module/pvlock_guest ]; }

# debugging slow module loads and unloads: the kernel's own messages of it,
# with their times (uptime, s) next to ours
klp_log() {
	[ "${PVLOCK_WL_DEBUG:-0}" = 1 ] || return 0
	info "wl-$name: $1 at $(cut -d' ' -f1 /proc/uptime): $(dmesg | grep -E 'pvlock|livepatch|kprobe' | tail -6 | tr '\n' '|')"
}

set_arm() {	# set_arm ARM
	case $1 in
	none)
		if guest_loaded; then
			_t=$(now_cs)
			klp_log "unload begins"
			guest_unload > /dev/null || return 1
			klp_log "unloaded"
			info "wl-$name: livepatch off and module out after $(($(now_cs) - _t)) cs"
		fi
		;;
	stock|pvlock)
		if ! guest_loaded; then
			_t=$(now_cs)
			insmod /pvlock/pvlock_guest.ko mode=stock > /dev/null || return 1
			info "wl-$name: insmod took $(($(now_cs) - _t)) cs"
			klp_log "loaded"
			guest_patched || return 1
			info "wl-$name: livepatch transition done after $(($(now_cs) - _t)) cs"
		fi
		if [ "$1" = stock ]; then _m=stock; else _m=adaptive; fi
		$q guest-set mode=$_m > /dev/null
		;;
	*) return 1 ;;
	esac
	# pvlock: the host side, as the L1 set it up before saying "arm" (stock
	# never asks the host anything)
	[ "$1" = pvlock ] || return 0
	_i=0
	while [ $_i -lt 200 ]; do
		[ "$(pvlockctl -j -G status 2>/dev/null | jq -r '.guest | "\(.handshake) \(.registered)"')" = "agreed $ncpu" ] &&
			return 0
		usleep 300000
		_i=$((_i + 1))
	done
	return 1
}

run() {	# run WL SECS SEQ
	_wl=$1 _secs=$2 _seq=$3
	guest_loaded && $q guest-reset > /dev/null
	wl_run "$_wl" "$_secs"
	st='{}'
	guest_loaded && st=$($q guest-stats | jq -c '{slowpath, queued, pending, waits, wait_early, halts, yields, yield_same_vm, yield_cross_vm, yield_halted, kicks, spins, threshold, threshold_changes, preempted_seen}')
	echo "PVLOCK-WL vm=$name seq=$_seq wl=$_wl arm=$arm ops=$OPS cs=$CS $EXTRA stats=$st"
	echo "PVLOCK-MARK done-$_seq"
}

wl_setup || exit 1
info "wl-$name: ready (a Lua build: $WL_BUILD_JOBS jobs)"
echo "PVLOCK-MARK ready"

while read -r cmd a1 a2 a3 <&3; do
	case $cmd in
	arm)
		if set_arm "$a1"; then
			arm=$a1
			echo "PVLOCK-MARK arm-$a2"
		else
			fail "wl-arm-$a1-$a2" "the guest side could not be set"
			echo "PVLOCK-MARK arm-$a2"
		fi
		;;
	run) run "$a1" "$a2" "$a3" ;;
	crash) echo c > /proc/sysrq-trigger ;;	# the test of the L1's revive
	quit) break ;;
	esac
done
guest_loaded && guest_unload
pass wl-ran "$name"
