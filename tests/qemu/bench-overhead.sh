#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Benchmark payload: locktorture spin_lock writes/s with pvlock_guest loaded
# in "stock" mode vs not loaded at all, alternating in one boot (ABBA order
# so that drift cancels). Prints one "PVLOCK-BENCH" line per run.
. /lib/pvtest.sh

rounds=${PVLOCK_BENCH_ROUNDS:-10}
secs=${PVLOCK_BENCH_SECS:-8}
uptime_cs() { awk '{ split($1, a, "."); print a[1] * 100 + substr(a[2] "00", 1, 2) }' /proc/uptime; }

unload() {
	echo 0 > /sys/kernel/livepatch/pvlock_guest/enabled
	while [ -d /sys/kernel/livepatch/pvlock_guest ]; do usleep 100000; done
	rmmod pvlock_guest
}

# writer k on CPU k mod nproc: the same placement in every run
pin_writers() {
	_k=0
	for _p in $(ps -o pid,comm | awk '$2 == "lock_torture_wr" { print $1 }'); do
		taskset -p -c $((_k % $(nproc))) "$_p" > /dev/null || fail pin-writer "$_p"
		_k=$((_k + 1))
	done
	[ $_k -gt 0 ] || fail pin-writers "no lock_torture_wr thread"
}

one() {	# one VARIANT ROUND
	if [ "$1" = stock ]; then
		insmod /pvlock/pvlock_guest.ko mode=stock || { fail "bench-load-$2"; return; }
		while [ "$(cat /sys/kernel/livepatch/pvlock_guest/transition 2>/dev/null)" != 0 ]; do
			usleep 100000
		done
	fi
	n0=$(dmesg | wc -l)
	t0=$(uptime_cs)
	# no 100 ms long holds (long_hold, 6.3+) nor RT boosts (rt_boost, 6.5+):
	# at one every ~800k acquisitions, a 5-10 s run gets a handful of long
	# holds, their number by chance, which swamped the difference measured
	insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 \
		nwriters_stress=$((2 * $(nproc))) stutter=0 shuffle_interval=0 long_hold=0 rt_boost=0
	pin_writers
	sleep "$secs"
	rmmod locktorture
	t1=$(uptime_cs)
	w=$(dmesg | tail -n +$((n0 + 1)) | sed -n 's/.*Writes: *Total: *\([0-9]*\).*Fail: *\([0-9]*\).*/\1 \2/p' | tail -1)
	set -- "$1" "$2" $w
	echo "PVLOCK-BENCH variant=$1 round=$2 writes=${3:-0} fail=${4:-?} cs=$((t1 - t0))"
	[ "$1" = stock ] && unload
}

check torture insmod /lt/torture.ko
one warmup 0	# the first locktorture run of a boot is slower: not counted
r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) -eq 1 ]; then one none $r; one stock $r; else one stock $r; one none $r; fi
	r=$((r + 1))
done
rmmod torture
pass bench-ran "$rounds rounds of ${secs}s per variant"
