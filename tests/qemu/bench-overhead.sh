#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Benchmark payload: locktorture spin_lock writes/s with pvlock_guest loaded
# in "stock" mode vs not loaded at all, alternating in one boot (ABBA order
# so that drift cancels). Prints one "PVLOCK-BENCH" line per run.
# PVLOCK_BENCH_VARIANTS (default "stock"): what runs against "none", comma-
# separated; "stock" is /pvlock/pvlock_guest.ko, NAME is /pvlock/x-NAME.ko
# (another build of the module, bench-guest.sh PVLOCK_BENCH_EXTRA), both
# loaded with mode=stock.
. /lib/pvtest.sh
expect 2

rounds=${PVLOCK_BENCH_ROUNDS:-10}
secs=${PVLOCK_BENCH_SECS:-8}
variants="none $(echo "${PVLOCK_BENCH_VARIANTS:-stock}" | tr , ' ')"
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
	case $1 in
	none|warmup) ko= ;;
	stock) ko=/pvlock/pvlock_guest.ko ;;
	*) ko=/pvlock/x-$1.ko ;;
	esac
	if [ -n "$ko" ]; then
		insmod "$ko" mode=stock || { fail "bench-load-$1-$2"; return; }
		while [ "$(cat /sys/kernel/livepatch/pvlock_guest/transition 2>/dev/null)" != 0 ]; do
			usleep 100000
		done
	fi
	# read from a cleared ring buffer: after a few dozen runs a full buffer
	# no longer grows, and counting its lines would miss the new ones
	dmesg -c > /dev/null
	t0=$(uptime_cs)
	# no 100 ms long holds (long_hold, 6.3+) nor RT boosts (rt_boost, 6.5+):
	# at one every ~800k acquisitions, a 5-10 s run gets a handful of long
	# holds, their number by chance, which swamped the difference measured
	insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
		nwriters_stress=$((2 * $(nproc))) stutter=0 shuffle_interval=0 long_hold=0 rt_boost=0
	pin_writers
	sleep "$secs"
	rmmod locktorture
	t1=$(uptime_cs)
	w=$(dmesg | sed -n 's/.*Writes: *Total: *\([0-9]*\).*Fail: *\([0-9]*\).*/\1 \2/p' | tail -1)
	set -- "$1" "$2" $w
	echo "PVLOCK-BENCH variant=$1 round=$2 writes=${3:-0} fail=${4:-?} cs=$((t1 - t0))"
	[ -n "$ko" ] && unload
}

check torture insmod /lt/torture.ko
one warmup 0	# the first locktorture run of a boot is slower: not counted
rev=$(echo "$variants" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) -eq 1 ]; then order=$variants; else order=$rev; fi
	for v in $order; do one "$v" $r; done
	r=$((r + 1))
done
rmmod torture
pass bench-ran "$rounds rounds of ${secs}s, variants: $variants"
