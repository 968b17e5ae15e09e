#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 payload of the nested benchmark (see tests/qemu/bench-l2.sh): first
# two L2 VMs of 2 vCPUs on one of L1's 2 vCPUs (4 vCPUs on 1: 4x
# overcommitted; L2s stay off L1's CPU 0, see run_l2 in lib/pvtest.sh), then
# one alone, free to use both (undercommitted). The L1 follows the guests' rounds: when every
# guest wants stock it unloads pvlock_host (and stops pvlockd); when every
# guest wants pvlock it loads them. PVLOCK_BENCH_ARMS (see bench-l2.sh) adds
# ablation arms; PVLOCK_BENCH_OVER=0 leaves out the overcommitted pair.
. /lib/pvtest.sh
over=${PVLOCK_BENCH_OVER:-1}
expect $((1 + 2 * over + ${PVLOCK_BENCH_UNDER:-1}))

rounds=${PVLOCK_BENCH_ROUNDS:-5}
secs=${PVLOCK_BENCH_SECS:-20}
per=$secs
[ -n "${PVLOCK_BENCH_REAL:-}" ] && per=$((2 * secs))	# and a real workload as long
narms=$(round_arms 1 | wc -w)
to=$((rounds * narms * (per + 40) + ${PVLOCK_BENCH_SHOW:-0} + 300))
host_on=off

host() {	# host on|nod|nox|off: pvlock_host and pvlockd, pvlock_host alone,
	# both without cross-VM yields (cross_vm no), neither
	[ "$1" = $host_on ] && return 0
	if [ $host_on != off ]; then
		[ -n "${PVLOCKD:-}" ] && kill "$PVLOCKD" && wait "$PVLOCKD"
		PVLOCKD=
		rmmod pvlock_host || fail host-unload
		host_on=off
	fi
	[ "$1" = off ] && return 0
	insmod /pvlock/pvlock_host.ko || fail host-load
	if [ "$1" = nox ]; then
		pvlockctl -H set cross_vm no > /dev/null || fail host-nocross
	fi
	if [ "$1" != nod ] && [ -x /usr/bin/pvlockd ]; then
		pvlockd > /tmp/pvlockd.log 2>&1 &
		PVLOCKD=$!
	fi
	host_on=$1
}

# cpu_ticks: "busy total" jiffies of each L1 CPU, space-separated pairs
cpu_ticks() {
	awk '/^cpu[0-9]/ { b = $2 + $3 + $4 + $7 + $8; printf "%d:%d ", b, b + $5 + $6 }' /proc/stat
}

# cpu_busy BEFORE AFTER: each L1 CPU's busy share between two cpu_ticks
cpu_busy() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (k = 1; k <= n; k++) {
			split(x[k], p, ":"); split(y[k], q, ":")
			d = q[2] - p[2]; printf("cpu%d=%.3f ", k - 1, d > 0 ? (q[1] - p[1]) / d : 0)
		}
	}'
}

# host_vms: pvlock_host's VMs with their counters (pvlock-query host-vms,
# as the nested tests read them; "[]" without the module). host_yields
# BEFORE AFTER: what the yield counters moved between two of them, per VM,
# "VM:COUNTER=N ..." for the "PVLOCK-L1HOST" line of a run. boosts_ran of
# boosts_given: the directed yields after which the vCPU yielded to ran
# before the giver; on_spin*: the PLE exits it saw, on_spin_ns and hc_ns the
# time its choice and its hypercall handler took (what the host side costs).
host_vms() {
	[ $host_on != off ] && pvlock-query host-vms 2>/dev/null || echo '[]'
}
host_yields() {
	echo "$1" "$2" | jq -s -r '(.[0] | map({(.name): .stats}) | add // {}) as $b |
		[.[1][] | .name as $n | .stats as $s |
		 ("yields yield_same_vm yield_cross_vm yield_none boosts_given boosts_ran budget_denied on_spin on_spin_kvm on_spin_boosts on_spin_ns hc_ns preemptions" |
		  split(" "))[] | "\($n):\(.)=\(($s[.] // 0) - ($b[$n][.] // 0))"] | join(" ")'
}

follow() {	# follow NAME...: drive the host side through the guests' rounds
	r=1
	last=
	while [ $r -le "$rounds" ]; do
		for v in $(round_arms $r); do
			for n in "$@"; do
				wait_mark "$n" "want-$v $r" $((2 * secs + 300)) || { fail "follow-$n-$v-$r"; return 1; }
			done
			# how busy each L1 CPU was from the previous "go" to now: that
			# run, the guests' waiting before it (pvlock: for the host
			# side's registration) and their bookkeeping after it; not the
			# host side's change, which comes before the "go". (The guests'
			# console lines cannot mark the run itself: a line written as
			# the benchmark starts can arrive up to 20 s late.)
			[ -n "$last" ] && echo "PVLOCK-L1CPU $last $(cpu_busy "$t0" "$(cpu_ticks)")"
			# and what the L1 scheduler did with the vCPU threads in the
			# same span (their schedstat: run, waiting while runnable,
			# times run), where their ids are known (pinned VMs)
			[ -n "$last" ] && echo "PVLOCK-L1SCHED $last$(vcpu_sched_diff "$s0" "$(vcpu_sched "$@")")"
			[ -n "$last" ] && [ $host_on != off ] &&
				echo "PVLOCK-L1HOST $last $(host_yields "$h0" "$(host_vms)")"
			host "$(arm_host "$v")"
			info "round $r: $v for $*"
			t0=$(cpu_ticks) h0=$(host_vms) s0=$(vcpu_sched "$@") last="case=$* round=$r variant=$v"
			for n in "$@"; do l2_say "$n" "go $v $r"; done
		done
		r=$((r + 1))
	done
	[ -n "$last" ] || return 0
	for n in "$@"; do wait_mark "$n" "done-$v $rounds" $((2 * secs + 300)) || break; done
	echo "PVLOCK-L1CPU $last $(cpu_busy "$t0" "$(cpu_ticks)")"
	echo "PVLOCK-L1SCHED $last$(vcpu_sched_diff "$s0" "$(vcpu_sched "$@")")"
	[ $host_on != off ] && echo "PVLOCK-L1HOST $last $(host_yields "$h0" "$(host_vms)")"
	return 0
}

# show NAME...: pvlock on, its live counters every 10 s while the guests
# run the workload for PVLOCK_BENCH_SHOW seconds (the demo)
show() {
	for n in "$@"; do
		wait_mark "$n" "want-pvlock 0" 300 || { fail "show-$n"; return 1; }
	done
	host on
	for n in "$@"; do l2_say "$n" "go pvlock 0"; done
	t=0
	while [ $t -lt "$PVLOCK_BENCH_SHOW" ]; do
		sleep 10
		t=$((t + 10))
		echo "PVLOCK-SHOW"
		echo "PVLOCK-SHOW ---- L1 host, ${t}s: pvlockctl vm list; pvlockctl stats --once"
		pvlockctl vm list 2>&1 | sed 's/^/PVLOCK-SHOW /'
		pvlockctl stats --once 2>&1 | sed 's/^/PVLOCK-SHOW /'
	done
}

l2_args() {	# l2_args SHOW: the benchmark's parameters for an L2
	echo "PVLOCK_BENCH_ROUNDS=$rounds PVLOCK_BENCH_SECS=$secs PVLOCK_BENCH_SHOW=$1" \
		"PVLOCK_BENCH_REAL=${PVLOCK_BENCH_REAL:-} PVLOCK_BENCH_ARMS=${PVLOCK_BENCH_ARMS:-stock,pvlock}"
}

# run_marks NAME: L2 NAME's lines on its ttyS1 as they come ("run-start
# ARM ROUND" and "run-end ARM ROUND", bench-l2.sh, around the measured run
# alone: a serial line, not the console, which can be 20 s late); at each
# end, what the L1 scheduler did with its pinned vCPU threads over that run
# and how busy each L1 CPU was ("PVLOCK-L1RUNSCHED" and "PVLOCK-L1RUNCPU",
# as PVLOCK-L1SCHED and PVLOCK-L1CPU, whose span also holds the guest's
# wait for the host side and its bookkeeping). The L1 is one for the VMs of
# a case: its CPU line, what KVM's counters moved over the run
# ("PVLOCK-L1RUNKVM", kvm_counts) and its busiest threads ("PVLOCK-L1RUNTOP",
# task_ticks) come from the marks of one of them, $cpu_vm.
run_marks() {
	_rn=$1 _rs= _rc= _rk= _rt=
	while IFS= read -r _rl; do
		# shellcheck disable=SC2086
		set -- $(echo "$_rl" | tr -d '\r')
		case ${1:-} in
		run-start) _rs=$(vcpu_sched "$_rn") _rc=$(cpu_ticks) _rk=$(kvm_counts) _rt=$(task_ticks) ;;
		run-end)
			if [ -n "$_rc" ] && [ "$_rn" = "$cpu_vm" ]; then
				echo "PVLOCK-L1RUNCPU case=$_rn round=$3 variant=$2 $(cpu_busy "$_rc" "$(cpu_ticks)")"
				echo "PVLOCK-L1RUNKVM case=$_rn round=$3 variant=$2 $(kvm_counts_diff "$_rk" "$(kvm_counts)")"
				echo "PVLOCK-L1RUNTOP case=$_rn round=$3 variant=$2 $(task_top "$_rt" "$(task_ticks)")"
			fi
			[ -n "$_rs" ] && echo "PVLOCK-L1RUNSCHED case=$_rn round=$3 variant=$2$(vcpu_sched_diff "$_rs" "$(vcpu_sched "$_rn")")"
			_rs= _rc= _rk= _rt= ;;
		esac
	done
}

# task_ticks: every L1 thread's CPU time so far, "TID NAME USER+SYS" a line
# (clock ticks; NAME its comm, blanks made "_": a kworker's names the
# workqueue it last ran); task_top BEFORE AFTER: the 8 threads that used the
# most CPU between two of them, "NAME=MS ..." ("PVLOCK-L1RUNTOP": who, on
# the L1, takes CPU time from the vCPUs over a run)
task_ticks() {
	cat /proc/[0-9]*/task/[0-9]*/stat 2>/dev/null |
		sed -n 's/^\([0-9]*\) (\(.*\)) [A-Za-z] \(.*\)$/\1 \2|\3/p' |
		awk -F'|' '{ split($2, f, " "); n = $1; sub(/ .*/, "", n); c = $1; sub(/^[0-9]* /, "", c)
			gsub(/[ =]/, "_", c); print n, c, f[11] + f[12] }'
}
task_top() {	# /proc's clock ticks are USER_HZ, 100 on x86
	printf '%s\n--\n%s\n' "$1" "$2" | awk -v hz=100 '
	$0 == "--" { after = 1; next }
	!after { b[$1] = $3; next }
	{ d = $3 - ($1 in b ? b[$1] : 0); if (d > 0) print d * 1000 / hz, $2 }' |
		sort -rn | head -8 | awk '{ printf "%s%s=%d", (NR > 1 ? " " : ""), $2, $1 } END { printf "\n" }'
}

# kvm_counts: KVM's own counters, summed over all VMs and vCPUs (its
# debugfs: every exit, and by reason), "NAME=N ..." for those this kernel
# has; kvm_counts_diff BEFORE AFTER: what they moved between two of them
# ("PVLOCK-L1RUNKVM", over a measured run: whether an arm makes the guest
# exit more often, or each exit cost more)
kvm_counts() {
	for _f in exits halt_exits irq_exits io_exits mmio_exits hypercalls \
		irq_window_exits signal_exits request_irq_exits host_state_reload \
		fpu_reload irq_injections req_event preemption_reported \
		preemption_other halt_wakeup pf_taken insn_emulation \
		directed_yield_attempted directed_yield_successful; do
		[ -r "/sys/kernel/debug/kvm/$_f" ] && printf '%s=%s ' "$_f" "$(cat "/sys/kernel/debug/kvm/$_f")"
	done
	echo
}
kvm_counts_diff() {
	printf '%s\n%s\n' "$1" "$2" | awk '
	{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (NR == 1) b[kv[1]] = kv[2]; else { a[kv[1]] = kv[2]; k[++n] = kv[1] } } }
	END { for (i = 1; i <= n; i++) if (k[i] in b) printf "%s%s=%d", (i > 1 ? " " : ""), k[i], a[k[i]] - b[k[i]]; printf "\n" }'
}

check load-kvm load_kmods
L2_CTL=1	# the guests start each measured run on the L1's word
L2_CTL_READ=run_marks
if [ "$over" = 1 ]; then
	L2_APPEND=$(l2_args "${PVLOCK_BENCH_SHOW:-0}") cpu_vm=a
	run_l2 a 2 256 "$to" /boot/l2.cpio.gz
	run_l2 b 2 256 "$to" /boot/l2.cpio.gz
	[ "${PVLOCK_BENCH_SHOW:-0}" -gt 0 ] && show a b
	follow a b
	wait_l2 a
	wait_l2 b
	host off
fi
if [ "${PVLOCK_BENCH_UNDER:-1}" = 1 ]; then
	L2_APPEND=$(l2_args 0) cpu_vm=solo
	pin=${PVLOCK_L2_PIN:-last}
	# an L1 of 3 or more CPUs (bench-nested.sh): each vCPU alone on one of
	# CPUs 1.., off CPU 0; of 2: anywhere
	if [ "$(ncpus)" -ge 3 ]; then PVLOCK_L2_PIN=vcpu; else PVLOCK_L2_PIN=0; fi
	run_l2 solo 2 256 "$to" /boot/l2.cpio.gz
	PVLOCK_L2_PIN=$pin
	follow solo
	wait_l2 solo
	host off
fi
