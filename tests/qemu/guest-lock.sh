#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# TCG guest: pvlock_guest's livepatched slow paths under locktorture.
#
# For each lock type (spin_lock, rw_lock) one locktorture run of
# PVLOCK_LT_SECS seconds (default 60) during which the module goes through
# all three modes (stock, adaptive, fixed), switched at runtime under load.
# The guest kernel would take its test-and-set lock under TCG, so the module
# is loaded with force_queue=1: the queue path is the one exercised, and its
# counters prove it. Then the module is unloaded and the kernel's own
# functions must be back.
. /lib/pvtest.sh
expect $((37 + ($(nproc) >= 3)))	# one more lock-named check on 3 or more CPUs

secs=${PVLOCK_LT_SECS:-60}
slice=$((secs / 3))
q=pvlock-query

stat_of() {	# stat_of JSON NAME
	echo "$1" | jq -r ".$2"
}

if ! insmod /pvlock/pvlock_guest.ko force_queue=1 mode=stock; then
	fail insmod "$(dmesg | grep pvlock | tail -3)"
	exit 1
fi
pass insmod
check livepatch-enabled guest_patched
expect_out status-livepatch 'livepatch +enabled' pvlockctl -G status
for f in __pv_queued_spin_lock_slowpath native_queued_spin_lock_slowpath kvm_wait kvm_kick_cpu; do
	expect_out "patched-$f" "^$f" grep "^$f" /sys/kernel/tracing/enabled_functions
done
check torture-module insmod /lt/torture.ko
# "perf lock contention" reads these: they must keep firing from our slow path
T=/sys/kernel/tracing
echo 1 > $T/events/lock/contention_begin/enable
echo 1 > $T/events/lock/contention_end/enable

# isqrt N: the integer square root (busybox awk may lack sqrt)
isqrt() {
	_r=$1
	[ "$_r" -gt 1 ] || { echo "$_r"; return; }
	_y=$(((_r + $1 / _r) / 2))
	while [ $_y -lt $_r ]; do
		_r=$_y
		_y=$(((_r + $1 / _r) / 2))
	done
	echo "$_r"
}

for type in spin_lock rw_lock; do
	check "$type-reset" $q guest-reset
	n0=$(dmesg | wc -l)
	check "$type-start" insmod /lt/locktorture.ko torture_type=$type stat_interval=0 verbose=0 \
		nwriters_stress=$((2 * $(nproc))) nreaders_stress=$(nproc)
	for mode in stock adaptive fixed; do
		check "$type-mode-$mode" $q guest-set mode=$mode threshold=1024
		sleep $slice
		st=$($q guest-stats)
		info "$type $mode: $(echo "$st" | jq -c '{slowpath,queued,pending,tas,spins,spin_acquired,waits,threshold,threshold_changes}')"
		# the threshold gauge is what the CPUs spin in this mode
		th=$(stat_of "$st" threshold)
		case $mode in
		stock) want=32768 ;;
		fixed) want=1024 ;;
		*) want=$th ;;	# adaptive: its own value, bounded below
		esac
		if [ "$th" -eq "$want" ] && [ "$th" -ge 256 ] && [ "$th" -le 32768 ]; then
			pass "$type-threshold-$mode" "threshold=$th"
		else
			fail "$type-threshold-$mode" "threshold=$th, wanted $want"
		fi
	done
	locks=$($q guest-locks)
	check "$type-stop" rmmod locktorture
	if [ $type = spin_lock ]; then
		echo 0 > $T/events/lock/contention_begin/enable
		echo 0 > $T/events/lock/contention_end/enable
		nb=$(grep -c 'contention_begin:.*flags=SPIN' $T/trace)
		ne=$(grep -c 'contention_end:' $T/trace)
		if [ "$nb" -gt 0 ] && [ "$ne" -gt 0 ]; then
			pass tracepoints-fire "contention_begin(SPIN)=$nb contention_end=$ne in the trace buffer"
		else
			fail tracepoints-fire "begin=$nb end=$ne: $(grep contention $T/trace | head -2)"
		fi
		echo > $T/trace
	fi
	out=$(dmesg | tail -n +$((n0 + 1)) | grep -E 'Writes *:|Reads *:|End of test')
	info "$(echo "$out" | grep -E 'Writes *:|Reads *:' | tr -s ' ' | tr '\n' ' ')"
	writes=$(echo "$out" | sed -n 's/.*Writes: *Total: *\([0-9]*\).*/\1/p' | tail -1)
	reads=$(echo "$out" | sed -n 's/.*Reads *: *Total: *\([0-9]*\).*/\1/p' | tail -1)
	acq=$((${writes:-0} + ${reads:-0}))
	if echo "$out" | grep -q 'End of test: SUCCESS' && ! echo "$out" | grep -E 'Writes *:|Reads *:' | grep -vq 'Fail: 0' &&
	   [ "${writes:-0}" -gt 0 ] && { [ $type = spin_lock ] || [ "${reads:-0}" -gt 0 ]; }; then
		pass "$type-locktorture" "SUCCESS, Fail: 0, writes=$writes reads=${reads:-0}"
	else
		fail "$type-locktorture" "$(echo "$out" | tr '\n' ' ')"
	fi

	st=$($q guest-stats)
	slow=$(stat_of "$st" slowpath)
	queued=$(stat_of "$st" queued)
	tas=$(stat_of "$st" tas)
	if [ "$queued" -gt 0 ] && [ "$tas" -eq 0 ]; then
		pass "$type-queue-path" "queued=$queued tas=0"
	else
		fail "$type-queue-path" "queued=$queued tas=$tas"
	fi
	# the histogram counts the queued calls: exactly those that blocked, saw
	# a preempted vCPU or spun PVLOCK_TIME_SPINS times, one in 16 of the
	# short others with weight 16 (PVLOCK_TIME_EVERY). Its sum estimates
	# "queued" with a standard deviation of at most sqrt(15 * queued): allow
	# 6 of those, and the calls each CPU has not accounted yet (one per
	# nesting level, weight 16)
	hsum=$(echo "$st" | jq '.hist | add')
	tol=$((6 * $(isqrt $((15 * queued))) + 64 * $(nproc)))
	lo=$((queued - tol)) hi=$((queued + tol))
	if [ "$slow" -gt 0 ] && [ "$hsum" -gt 0 ] && [ "$hsum" -ge "$lo" ] && [ "$hsum" -le "$hi" ]; then
		pass "$type-counters" "slowpath=$slow queued=$queued hist=$hsum (within $lo-$hi)"
	else
		fail "$type-counters" "slowpath=$slow queued=$queued hist=$hsum (outside $lo-$hi)"
	fi
	top=$(echo "$locks" | jq -c '.[0]')
	info "$type top contended: $top"
	tl=$(echo "$locks" | jq '[.[] | select(.symbol | test("torture"))] | .[0].contended // 0')
	if [ $type = rw_lock ] && [ "$(nproc)" -lt 3 ]; then
		# a qrwlock's inner spinlock is taken by waiters only: with two CPUs
		# (holder + one waiter) it is never contended, so never slow-pathed
		info "rw_lock on $(nproc) CPUs: its inner spinlock cannot be contended (contended=$tl)"
	elif [ "$tl" -gt 0 ] && [ "$tl" -le "$acq" ]; then
		pass "$type-lock-named" "torture lock contended $tl times of $acq acquisitions"
	else
		fail "$type-lock-named" "torture lock contended=$tl acquisitions=$acq: $(echo "$locks" | head -c 300)"
	fi
done
check torture-module-rm rmmod torture

check unload guest_unload
if grep -qE '__pv_queued_spin_lock_slowpath|native_queued_spin_lock_slowpath|kvm_wait|kvm_kick_cpu' \
	/sys/kernel/tracing/enabled_functions; then
	fail originals-back "$(cat /sys/kernel/tracing/enabled_functions)"
else
	pass originals-back
fi
