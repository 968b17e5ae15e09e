#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 KVM guest on a stock L1 host (no pvlock_host): the PV slow path is the
# one patched and taken, the handshake says "host without pvlock", waits
# fall back to HLT, locktorture passes.
. /lib/pvtest.sh
expect 13

secs=${PVLOCK_LT_SECS:-45}
q=pvlock-query
expect_out pv-spinlocks 'PV spinlocks enabled' dmesg
if ! insmod /pvlock/pvlock_guest.ko mode=adaptive; then
	fail insmod "$(dmesg | grep pvlock | tail -3)"
	exit 1
fi
pass insmod
# addresses for reading a hung vCPU's RIP (see wait_l2)
sort /proc/kallsyms | grep -E ' [tT] (pvlock_|native_safe_halt|native_halt|__pv_queued|_raw_spin)' |
	sed 's/^/PVLOCK-INFO sym /'
expect_out handshake-standalone 'handshake +host without pvlock' pvlockctl -G status
check torture insmod /lt/torture.ko
# the run starts on the L1's word, in both L2s together (guestkvm-l1.sh's
# phases)
ctl_open
echo "PVLOCK-MARK ready"
if ctl_wait go 300; then pass go; else fail go "no word from the L1 in 300 s"; fi
n0=$(dmesg | wc -l)
check lt-start insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
	nwriters_stress=$((2 * $(nproc)))
# the adaptive threshold of each CPU, sampled: it falls while the
# vCPU a waiter queues behind is preempted (LHP: the two L2 guests share two L1
# CPUs) and rises again in windows without (the other VM stopped by the L1,
# locktorture's stutter pauses)
# (one pvlockctl process logging per-CPU CSV once a second: a process per
# sample takes seconds in a nested guest under this load)
pvlockctl -G stats --log --per-cpu --all -d 1 -n "$secs" > /tmp/th.csv 2> /tmp/th.err &
thpid=$!
sleep "$secs"
wait $thpid
# time_s,source,entity,vm_id,pid,cpu,counter,total,rate
tr0=$(awk -F, '$7 == "threshold" && $6 == "0" { printf " %s", $8 }' /tmp/th.csv)
tr1=$(awk -F, '$7 == "threshold" && $6 == "1" { printf " %s", $8 }' /tmp/th.csv)
[ -n "$tr0" ] || info "threshold log: $(head -3 /tmp/th.csv /tmp/th.err | tr '\n' ' ')"
st=$($q guest-stats)
info "stats: $(echo "$st" | jq -c 'del(.hist)')"
check lt-stop rmmod locktorture
out=$(dmesg | tail -n +$((n0 + 1)) | grep -E 'Writes:|End of test')
if echo "$out" | grep -q 'End of test: SUCCESS' && echo "$out" | grep -q 'Fail: 0'; then
	pass locktorture "$(echo "$out" | grep -o 'Total: *[0-9]*' | head -1)"
else
	fail locktorture "$(echo "$out" | tr '\n' ' ')"
fi
v() { echo "$st" | jq -r ".$1"; }
# the PV path queues at once (no pending bit, no test-and-set lock) and
# hashes halted queue heads; the native path would count pending/tas
if [ "$(v queued)" -gt 0 ] && [ "$(v pending)" -eq 0 ] && [ "$(v tas)" -eq 0 ] && [ "$(v hashed)" -gt 0 ]; then
	pass pv-path-taken "queued=$(v queued) hashed=$(v hashed) pending=0 tas=0"
else
	fail pv-path-taken "queued=$(v queued) hashed=$(v hashed) pending=$(v pending) tas=$(v tas)"
fi
if [ "$(v waits)" -gt 0 ] && [ "$(v halts)" -gt 0 ] && [ "$(v kicks)" -gt 0 ] && [ "$(v yields)" -eq 0 ]; then
	pass waits-halt-without-host "waits=$(v waits) halts=$(v halts) kicks=$(v kicks) yields=0"
else
	fail waits-halt-without-host "waits=$(v waits) halts=$(v halts) kicks=$(v kicks) yields=$(v yields)"
fi
info "adaptive: threshold_changes=$(v threshold_changes) threshold=$(v threshold) preempted_seen=$(v preempted_seen) wait_early=$(v wait_early)"
info "threshold trace, CPU 0:$tr0"
info "threshold trace, CPU 1:$tr1"
# falls, and rises after a fall, in a trace
moves() {
	echo "$1" | awk '{ for (i = 2; i <= NF; i++) { if ($i < $(i - 1)) d++; else if ($i > $(i - 1) && d) u++ } }
		END { print d + 0, u + 0 }'
}
# shellcheck disable=SC2046
set -- $(moves "$tr0") $(moves "$tr1")
if [ "$(v preempted_seen)" -gt 0 ] && [ $(($1 + $3)) -gt 0 ] && [ $(($2 + $4)) -gt 0 ]; then
	pass threshold-falls-and-rises "CPU 0: $1 falls, $2 rises after one; CPU 1: $3 falls, $4 rises; preempted_seen=$(v preempted_seen)"
else
	fail threshold-falls-and-rises "CPU 0: $1 falls, $2 rises; CPU 1: $3 falls, $4 rises; preempted_seen=$(v preempted_seen); traces:$tr0 /$tr1"
fi
check lp-disable sh -c 'echo 0 > /sys/kernel/livepatch/pvlock_guest/enabled'
i=0; while [ -d /sys/kernel/livepatch/pvlock_guest ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
check rmmod rmmod pvlock_guest
