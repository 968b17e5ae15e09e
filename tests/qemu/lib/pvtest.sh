# SPDX-License-Identifier: GPL-2.0
# Helpers for test scripts inside QEMU guests (busybox sh). Results are
# console lines "PVLOCK-RESULT PASS|FAIL name[: detail]"; the host-side
# runner collects them. A test that cannot run reports FAIL, never PASS.
# Each result is also tallied in /run/pvlock.tally, which init.sh reports in
# its end marker: the runner notices a result line that a kernel message
# cut on the shared console.

pass() { echo "PVLOCK-RESULT PASS $1${2:+: $2}"; echo P >> /run/pvlock.tally 2>/dev/null; }
fail() { echo "PVLOCK-RESULT FAIL $1${2:+: $2}"; echo F >> /run/pvlock.tally 2>/dev/null; }
info() { echo "PVLOCK-INFO $*"; }

# expect N: the payload reports N results (PASS or FAIL lines) when it runs
# to its end. Declared once, near the top: the runner fails a guest that
# reported fewer (a payload that stopped early after some PASS lines is not
# green).
expect() { echo "PVLOCK-EXPECT $1"; }

# insmod and rmmod of pvlock's modules (every module named pvlock*, the test
# modules included) are announced on the console, straight to it since a
# caller may capture the output (check, $(...)): "PVLOCK-MODULE load NAME"
# before the load is tried, "PVLOCK-MODULE unload NAME" once it is gone.
# scripts/qemu-run.sh runs a test again after a nested-TCG fault only if the
# faulting guest had no pvlock module loaded at the time.
pvlock_mod() {	# pvlock_mod load|unload PATH-OR-NAME
	case ${2##*/} in
	pvlock*) _m=${2##*/}; echo "PVLOCK-MODULE $1 ${_m%.ko}" > /dev/console ;;
	esac
}
insmod() {
	pvlock_mod load "$1"
	command insmod "$@"
}
rmmod() {
	command rmmod "$@" || return
	for _a; do pvlock_mod unload "$_a"; done
}

# check NAME CMD...: PASS if CMD exits 0, else FAIL with its last lines.
check() {
	_n=$1; shift
	if _o=$("$@" 2>&1); then
		pass "$_n"
	else
		fail "$_n" "$(echo "$_o" | tail -3 | tr '\n' ' ')"
	fi
}

# expect_fail NAME CMD...: PASS if CMD fails.
expect_fail() {
	_n=$1; shift
	if _o=$("$@" 2>&1); then
		fail "$_n" "succeeded but should not: $(echo "$_o" | tail -2 | tr '\n' ' ')"
	else
		pass "$_n"
	fi
}

# expect_rc NAME RC PATTERN CMD...: PASS if CMD exits RC and its output
# (stdout and stderr) matches PATTERN
expect_rc() {
	_n=$1 _want=$2 _p=$3
	shift 3
	_o=$("$@" 2>&1)
	_rc=$?
	if [ $_rc -eq "$_want" ] && echo "$_o" | grep -Eq -- "$_p"; then
		pass "$_n"
	else
		fail "$_n" "rc=$_rc (wanted $_want), wanted /$_p/ in: $(echo "$_o" | head -3 | tr '\n' ' ')"
	fi
}

# wait_for SECONDS CMD...: until CMD succeeds (status 1 if it never does)
wait_for() {
	_s=$1
	shift
	while [ "$_s" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
		_s=$((_s - 1))
	done
	return 1
}

# nobody CMD...: run CMD as user nobody. busybox's setpriv cannot change
# ids, its su can (root needs no password); the initramfs root is a
# mktemp -d directory (mode 0700), so nobody is let in first.
nobody() {
	chmod 755 /
	su -s /bin/sh nobody -c "$*"
}

# expect_out NAME PATTERN CMD...: PASS if CMD succeeds and its output matches
# the extended regular expression PATTERN (status 1 after a FAIL).
expect_out() {
	_n=$1; _p=$2; shift 2
	_o=$("$@" 2>&1)
	_rc=$?
	if [ $_rc -eq 0 ] && echo "$_o" | grep -Eq -- "$_p"; then
		pass "$_n"
	else
		fail "$_n" "rc=$_rc, wanted /$_p/ in: $(echo "$_o" | head -5 | tr '\n' ' ')"
		return 1
	fi
}

# Load the distro modules listed in /kmod/order (dependencies first).
# PVLOCK_KVM_AMD (kernel command line, "%" between parameters) are kvm_amd's
# module parameters.
load_kmods() {
	[ -f /kmod/order ] || return 0
	while read -r m; do
		_p=
		[ "$m" = kvm-amd.ko ] && _p=$(echo "${PVLOCK_KVM_AMD:-}" | tr % " ")
		# shellcheck disable=SC2086
		insmod "/kmod/$m" $_p || { fail "kmod/$m" "insmod failed"; return 1; }
	done < /kmod/order
}

# pvlock_guest's unload sequence: disable its livepatch, wait for the
# transition to finish and the patch to go, then rmmod.
# lp_unload NAME: disable livepatch NAME, wait for its transition (60 s at
# most), remove its module
lp_unload() {
	if [ -d "/sys/kernel/livepatch/$1" ]; then
		echo 0 > "/sys/kernel/livepatch/$1/enabled" || return 1
		_i=0
		while [ -d "/sys/kernel/livepatch/$1" ]; do
			_i=$((_i + 1))
			[ $_i -gt 600 ] && { echo "livepatch transition stuck" >&2; return 1; }
			usleep 100000
		done
	fi
	rmmod "$1"
}

# lp_patched NAME: wait until livepatch NAME's transition is over (after
# insmod; 60 s at most)
lp_patched() {
	_i=0
	while [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" != 0 ]; do
		_i=$((_i + 1))
		[ $_i -gt 600 ] && return 1
		usleep 100000
	done
}

guest_unload() {
	lp_unload pvlock_guest
}

# Wait until pvlock_guest's livepatch transition is over (after insmod).
guest_patched() {
	lp_patched pvlock_guest
}

# guest_agreed SECONDS: until pvlock_guest's handshake is agreed and every
# CPU registered (status 1 if that takes longer)
guest_agreed() {
	_i=0
	while [ $_i -lt $(($1 * 10)) ]; do
		_st=$(pvlockctl -j -G status 2>/dev/null)
		if [ "$(echo "$_st" | jq -r .guest.handshake)" = agreed ] &&
		   [ "$(echo "$_st" | jq -r .guest.registered)" = "$(nproc)" ]; then
			return 0
		fi
		usleep 100000
		_i=$((_i + 1))
	done
	return 1
}

# kmem: "SLAB_KB KMALLOC_BYTES" after dropping what the kernel can drop:
# Slab from /proc/meminfo, and the bytes in use in the kmalloc caches
# (/proc/slabinfo: active objects times object size), where what a module
# allocates and forgets ends up. Exact only in a guest booted with
# "slub_debug=F,kmalloc-* kfence.sample_interval=0": otherwise SLUB counts
# every object of each CPU's current slabs as in use, and the figure moves
# by whole slabs (32 kB for kmalloc-4k) with no leak at all. On 7.x also
# "U" (slub_debug=FU,...), for the sheaves below.
kmem() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	sleep 1		# objects freed after an RCU grace period (sockets, files)
	_s=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)
	cp /proc/slabinfo /tmp/kmem.slabinfo
	# From 7.x, SLUB keeps per-CPU and per-node arrays of free objects
	# (sheaves) for the other caches, allocated from kmalloc and kept up to
	# a limit per cache (10 full and 10 empty per node, mm/slub.c), so their
	# number drifts by a few kB over minutes whatever is loaded. Where the
	# kmalloc caches record allocation sites (slub_debug=U), the objects
	# SLUB allocated for its sheaves are left out, and their bytes noted in
	# /tmp/kmem.sheaves.
	_x=0
	if [ -r /sys/kernel/debug/slab/kmalloc-64/alloc_traces ]; then
		_x=$(awk 'FILENAME == "/tmp/kmem.slabinfo" { if ($1 ~ /^kmalloc-/) sz[$1] = $4; next }
			FNR == 1 { n = split(FILENAME, p, "/"); c = p[n - 1] }
			$1 ~ /^[0-9]+$/ && $2 ~ /sheaf|sheaves|^__pcs_/ { x += $1 * sz[c] }
			END { printf "%d", x }' /tmp/kmem.slabinfo /sys/kernel/debug/slab/kmalloc-*/alloc_traces)
	fi
	echo "$_x" > /tmp/kmem.sheaves
	_k=$(awk -v x="$_x" '$1 ~ /^kmalloc-/ { b += $2 * $4 } END { printf "%d", b - x }' /tmp/kmem.slabinfo)
	# kept for slab_grew, under the figure it gave
	mv /tmp/kmem.slabinfo "/tmp/kmem-$_k.slabinfo"
	echo "$_s $_k"
}

# slab_grew "KMEM" "KMEM": the caches that grew most between two readings,
# bytes and name
slab_grew() {
	awk 'NR == FNR { if ($1 !~ /^#/) b[$1] = $2 * $4; next }
		$1 !~ /^#/ && $1 in b { d = $2 * $4 - b[$1]; if (d > 0) print d, $1 }' \
		"/tmp/kmem-${1#* }.slabinfo" "/tmp/kmem-${2#* }.slabinfo" | sort -rn | head -4 | tr '\n' ' '
}

# leak_check NAME "KMEM" MAX_BYTES WHAT: PASS if the kmalloc caches grew by
# at most MAX_BYTES since KMEM (kmem's output before WHAT), and kmemleak,
# where the kernel has it, reports nothing
leak_check() {
	_now=$(kmem)
	_d=$((${_now#* } - ${2#* }))
	_l=
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		_l=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	fi
	_what="kmalloc caches ${2#* } -> ${_now#* } bytes ($_d), Slab ${2% *} -> ${_now% *} kB over $4; grew most: $(slab_grew "$2" "$_now"); kmemleak: ${_l:-not in this kernel}"
	if [ "$_d" -le "$3" ] && [ "${_l:-0}" -eq 0 ]; then
		pass "$1" "$_what"
	else
		fail "$1" "$_what (at most $3 bytes allowed)"
	fi
}

# --- L1 side of nested tests -------------------------------------------

# run_l2 NAME SMP MEM_MB TIMEOUT INITRD [extra qemu args]: start an L2 KVM
# guest in the background with the L1's own kernel; its console goes to
# /tmp/l2-NAME.log. Needs /dev/kvm.
# "noxsave": an L1 under TCG gives L2 an XSAVE area size that disagrees with
# the one the L2 kernel computes ("XSAVE consistency problem", a WARNING at
# boot, with -cpu host and named models alike); L2 uses FXSAVE instead. Lock
# behaviour does not depend on it.
# PVLOCK_L2_APPEND (from the L1's command line) is added to the L2's; "%"
# separates parameters there, since a kernel parameter cannot hold spaces.
# L2_APPEND (set by the caller) adds parameters for this one L2.
run_l2() {
	_name=$1 _smp=$2 _mem=$3 _to=$4 _initrd=$5
	shift 5
	# one L2 boot at a time: wait until the previous one reached its /init
	# (PVLOCK_L2_STAGGER=0 starts them together)
	if [ "${PVLOCK_L2_STAGGER:-1}" = 1 ] && [ -n "${L2_LAST:-}" ]; then
		_i=0
		while ! grep -q '^PVLOCK-INIT' "/tmp/l2-$L2_LAST.log" 2>/dev/null && [ $_i -lt 240 ]; do
			usleep 500000
			_i=$((_i + 1))
		done
	fi
	L2_LAST=$_name
	# Where the L2s run. PVLOCK_L2_PIN=last (the default): every L2 on L1's
	# last CPU. Nested SVM under TCG corrupts the kernel stack of an L2
	# vCPU thread on L1's CPU 0 now and then ("corrupted stack end detected
	# inside scheduler", also without any pvlock module: README, known
	# quirks); with no L2 on CPU 0 it has not been seen. =1: the k-th L2 on
	# L1 CPU k mod nproc; =vcpu (an L1 of 3 or more CPUs): the L2 off CPU 0,
	# its vCPU k alone on L1 CPU 1 + k mod (nproc - 1), so that where its
	# vCPUs run does not change from one moment to the next; =0: anywhere.
	_pin= _ncpu=$(ncpus)
	case ${PVLOCK_L2_PIN:-last} in
	1) _pin="taskset -c $((${L2_COUNT:-0} % _ncpu))" ;;
	last) _pin="taskset -c $((_ncpu - 1))" ;;
	vcpu) _pin="taskset -c 1-$((_ncpu - 1))" ;;
	esac
	L2_COUNT=$((${L2_COUNT:-0} + 1))
	# a monitor on a pair of fifos lets wait_l2 dump a hung guest's registers
	rm -f "/tmp/l2-$_name.mon.in" "/tmp/l2-$_name.mon.out" "/tmp/l2-$_name.rc" "/tmp/l2-$_name.tids" \
		"/tmp/l2-$_name.mon.log"
	mkfifo "/tmp/l2-$_name.mon.in" "/tmp/l2-$_name.mon.out"
	# L2_CTL=1: a second serial port (the L2's ttyS1) on a pair of fifos, for
	# lines from the L1 to the L2 (l2_say NAME TEXT) and back (L2_CTL_READ)
	_ctl=
	if [ "${L2_CTL:-0}" = 1 ]; then
		rm -f "/tmp/l2-$_name.ctl.in" "/tmp/l2-$_name.ctl.out"
		mkfifo "/tmp/l2-$_name.ctl.in" "/tmp/l2-$_name.ctl.out"
		_ctl="-serial pipe:/tmp/l2-$_name.ctl"
	fi
	# the console goes to our own as it comes, "[L2:NAME] "-prefixed (so
	# that an L2's last words survive a hung or dead L1), and to a file
	# that the payloads read markers from
	{
		$_pin timeout "$_to" qemu-system-x86_64 -enable-kvm -cpu "${PVLOCK_L2_CPU:-host}" \
			-smp "$_smp" -m "$_mem" -name "$_name" -nodefaults -display none \
			-no-reboot -serial stdio $_ctl -L /usr/share/qemu \
			-monitor "pipe:/tmp/l2-$_name.mon" \
			-kernel /boot/vmlinuz -initrd "$_initrd" \
			-append "console=ttyS0 panic=-1 quiet loglevel=5 noxsave softlockup_all_cpu_backtrace=1 PVLOCK_HOSTNAME=$_name $(echo "$PVLOCK_L2_APPEND" | tr % " ") ${L2_APPEND:-}" \
			"$@" 2> "/tmp/l2-$_name.qemu" < /dev/null
		echo $? > "/tmp/l2-$_name.rc"
	} | tr -d '\r' | tee "/tmp/l2-$_name.log" | sed "s/^/[L2:$_name] /" &
	eval "L2_PID_$_name=$! L2_TO_$_name=$_to L2_T0_$_name=$(cut -d. -f1 /proc/uptime)"
	# drain the monitor's output so that it never blocks
	cat "/tmp/l2-$_name.mon.out" > "/tmp/l2-$_name.mon.log" 2>/dev/null &
	# what the L2 writes there: to L2_CTL_READ NAME (a function of the
	# caller's) as it comes, or nowhere
	if [ -n "$_ctl" ] && [ -n "${L2_CTL_READ:-}" ]; then
		"$L2_CTL_READ" "$_name" < "/tmp/l2-$_name.ctl.out" &
	elif [ -n "$_ctl" ]; then
		cat "/tmp/l2-$_name.ctl.out" > /dev/null 2>&1 &
	fi
	if [ "${PVLOCK_L2_PIN:-last}" = vcpu ]; then
		l2_pin_vcpus "$_name" "$_smp"
	fi
}

# The nested benchmark's arms (scripts/bench-nested.sh PVLOCK_BENCH_ARMS),
# one table for the L1 and the L2 payloads. arm_mode ARM: pvlock_guest's
# mode; arm_host ARM: the L1's side, "on" (pvlock_host and pvlockd), "nod"
# (pvlock_host alone) or "off"
arm_mode() {
	case $1 in stock|stock2|stockhost|stocknod) echo stock ;; *) echo adaptive ;; esac
}
arm_host() {
	case $1 in stock|stock2|adaptive) echo off ;; nodaemon|stocknod) echo nod ;; nocross) echo nox ;; *) echo on ;; esac
}

# williams ROUND ARM...: the arms of round ROUND (1, 2, ...) in a Williams
# design, a Latin square balanced for carryover: over every n rounds (2n
# for an odd number of arms) each arm takes each position once and, within
# the rounds, follows each other arm once, so that what an arm change leaves
# behind (a livepatch transition, pvlock_host's unload, the VMs moved)
# weighs on every arm alike. The rows are taken in an order in which no
# round begins with the arm that ended the round before (an arm after
# itself, no change at all, would be the one run without a carryover); with
# two arms that cannot be avoided. The plain ABCD/DCBA order had the last
# arm follow itself at every round boundary: at 4x the workload benchmark's
# A/A was 1.03-1.48 in those rounds, 0.75-1.75 in the others.
williams() {
	_r=$1
	shift
	echo "$*" | awk -v r="$_r" '{
		n = NF
		# the first row: 1, 2, n, 3, n - 1, 4, ... (0-based below)
		lo = 1; hi = n - 1; b[0] = 0
		for (i = 1; i < n; i++) b[i] = (i % 2) ? lo++ : hi--
		rows = n % 2 ? 2 * n : n
		for (j = 0; j < rows; j++)
			for (i = 0; i < n; i++)
				row[j, i] = j < n ? (b[i] + j) % n : (b[n - 1 - i] + j - n) % n
		# the sequence of rows: each time the first unused one that does
		# not begin with the previous row'"'"'s last arm (any, if none)
		used[0] = 1; seq[0] = 0
		for (k = 1; k < rows; k++) {
			pick = -1
			for (j = 0; j < rows && pick < 0; j++)
				if (!(j in used) && row[j, 0] != row[seq[k - 1], n - 1]) pick = j
			for (j = 0; j < rows && pick < 0; j++)
				if (!(j in used)) pick = j
			used[pick] = 1; seq[k] = pick
		}
		j = seq[((r - 1) % rows + rows) % rows]
		for (i = 0; i < n; i++) printf "%s ", $(row[j, i] + 1)
	}'
}

# round_arms ROUND: the nested benchmark's arms (PVLOCK_BENCH_ARMS, default
# stock,pvlock) in round ROUND, in the Williams order above
round_arms() {
	# shellcheck disable=SC2046
	williams "$1" $(echo "${PVLOCK_BENCH_ARMS:-stock,pvlock}" | tr , ' ')
}

# ncpus: the online CPUs (not nproc: isolcpus= keeps the isolated ones out
# of our own affinity)
ncpus() {
	grep -c '^processor' /proc/cpuinfo
}

# l2_mon NAME COMMAND: one command to L2 NAME's QEMU monitor (its output
# lands in /tmp/l2-NAME.mon.log)
l2_mon() {
	timeout 3 sh -c "echo \"$2\" > /tmp/l2-$1.mon.in"
}

# l2_vcpu_tids NAME: "K:TID" for each vCPU K of L2 NAME and its thread id
# (QEMU's monitor, "info cpus"). Once l2_pin_vcpus has seen them all they
# are kept in /tmp/l2-NAME.tids for the QEMU's life (run_l2 removes the
# file): each question to the monitor costs a second.
l2_vcpu_tids() {
	if [ -s "/tmp/l2-$1.tids" ]; then
		cat "/tmp/l2-$1.tids"
		return
	fi
	l2_mon "$1" "info cpus"
	sleep 1
	tr -d '\r' < "/tmp/l2-$1.mon.log" | sed -nE 's/.*CPU #([0-9]+):.*thread_id=([0-9]+).*/\1:\2/p' | sort -u
}

# vcpu_sched VM...: what the L1 scheduler and KVM did with those L2s' vCPUs
# so far, one line of "VM:K=RUN_NS,WAIT_NS,SLICES" per vCPU thread (its
# /proc/TID/schedstat; "-" where unreadable) and "kvm=OK,TRIED,WAKEUPS" (the
# halt-polling totals of all L2s together in KVM's debugfs; left out where
# it has none). Only threads whose ids l2_pin_vcpus kept: it asks no
# monitor, so that it costs nothing inside a run's time. vcpu_sched_diff
# BEFORE AFTER: the "PVLOCK-WLSCHED" line's fields between two of them: per
# VM its vCPUs' CPU time, time runnable but waiting for the CPU and times
# run (ms, ms, count; summed over its vCPUs; a VM with any entry missing
# from either is left out), then the halt polls that succeeded of those
# tried and the wakeups, if KVM had counters. Where the runs of one arm
# split into fast and slow ones, this tells whether the L1 ran the vCPUs
# differently (the workload benchmark, wl-l1.sh, over each run plus the
# L1's wait for every VM's answer).
vcpu_sched() {
	for _n in "$@"; do
		[ -s "/tmp/l2-$_n.tids" ] || continue
		while IFS=: read -r _k _t; do
			# shellcheck disable=SC2046
			set -- $(cat "/proc/$_t/schedstat" 2>/dev/null)
			if [ $# -ge 3 ]; then printf '%s:%s=%s,%s,%s ' "$_n" "$_k" "$1" "$2" "$3"
			else printf '%s:%s=- ' "$_n" "$_k"; fi
		done < "/tmp/l2-$_n.tids"
	done
	_k=/sys/kernel/debug/kvm
	# shellcheck disable=SC2046
	set -- $(cat $_k/halt_successful_poll $_k/halt_attempted_poll $_k/halt_wakeup 2>/dev/null)
	[ $# = 3 ] && printf 'kvm=%s,%s,%s' "$1" "$2" "$3"
	echo
}
vcpu_sched_diff() {
	printf '%s\n%s\n' "$1" "$2" | awk '
	{ for (i = 1; i <= NF; i++) {
		split($i, kv, "="); n = split(kv[2], x, ",")
		if (n != 3) { bad[kv[1]] = 1; continue }
		if (NR == 1) { b1[kv[1]] = x[1]; b2[kv[1]] = x[2]; b3[kv[1]] = x[3]; continue }
		a1[kv[1]] = x[1]; a2[kv[1]] = x[2]; a3[kv[1]] = x[3]; keys[++nk] = kv[1]
	} }
	END {
		for (i = 1; i <= nk; i++) { k = keys[i]; if (k == "kvm") continue
			split(k, v, ":"); vm = v[1]
			if (!(vm in seen)) { seen[vm] = 1; order[++nv] = vm }
			if (!(k in b1)) { lost[vm] = 1; continue }
			run[vm] += a1[k] - b1[k]; wait[vm] += a2[k] - b2[k]; sl[vm] += a3[k] - b3[k]
		}
		for (k in bad) { split(k, v, ":"); lost[v[1]] = 1 }
		for (k in b1) if (k != "kvm" && !(k in a1)) { split(k, v, ":"); lost[v[1]] = 1 }
		for (j = 1; j <= nv; j++) { vm = order[j]
			if (!(vm in lost)) printf " %s=%.0f/%.0f/%d", vm, run[vm] / 1e6, wait[vm] / 1e6, sl[vm] }
		if (("kvm" in b1) && ("kvm" in a1))
			printf " halt_polls_ok=%d/%d wakeups=%d", a1["kvm"] - b1["kvm"], a2["kvm"] - b2["kvm"], a3["kvm"] - b3["kvm"]
		printf "\n"
	}'
}

# l2_pin_vcpus NAME SMP: vCPU k of L2 NAME on L1 CPU 1 + k mod (nproc - 1),
# its QEMU's other threads (main loop, I/O, RCU) on CPU 0, where they do not
# preempt a vCPU; the vCPU threads' ids come from QEMU's monitor ("info cpus")
l2_pin_vcpus() {
	_i=0 _ncpu=$(ncpus)
	while [ $_i -lt 60 ]; do
		_ids=$(l2_vcpu_tids "$1")
		if [ "$(echo "$_ids" | grep -c :)" -eq "$2" ]; then
			_tgid=
			for _c in $_ids; do
				_k=${_c%%:*}
				taskset -p -c $((1 + _k % (_ncpu - 1))) "${_c##*:}" > /dev/null ||
					{ fail "l2-$1-pin" "vCPU $_k (thread ${_c##*:})"; return 1; }
				_tgid=$(awk '/^Tgid:/ { print $2 }' "/proc/${_c##*:}/status")
			done
			for _t in /proc/"$_tgid"/task/*; do
				_t=${_t##*/}
				echo " $_ids " | tr '\n' ' ' | grep -q ":$_t " ||
					taskset -p -c 0 "$_t" > /dev/null 2>&1
			done
			echo "$_ids" > "/tmp/l2-$1.tids"
			info "l2-$1: vCPU k on L1 CPU 1 + k mod $((_ncpu - 1)), its other threads on CPU 0 ($(echo $_ids))"
			return 0
		fi
		_i=$((_i + 1))
	done
	fail "l2-$1-pin" "QEMU's monitor named no $2 vCPU threads in 60 s: $(tail -3 "/tmp/l2-$1.mon.log" | tr '\r\n' '  ')"
	return 1
}

# wait_l2 NAME: wait for it to end and report whether it reached its end
# marker (its console was already copied into ours as it came).
wait_l2() {
	_name=$1
	eval "_pid=\$L2_PID_$_name _to=\$L2_TO_$_name _t0=\$L2_T0_$_name"
	# shortly before its timeout, record where a hung guest's vCPUs are
	while kill -0 "$_pid" 2>/dev/null; do
		if [ $(($(cut -d. -f1 /proc/uptime) - _t0)) -ge $((_to - 8)) ]; then
			l2_mon "$_name" "info registers -a"
			sleep 2
			sed "s/^/[L2:$_name hung] /" "/tmp/l2-$_name.mon.log" | tr -d '\r' |
				grep -E 'CPU#|RIP=|RSP=|EFL=|HLT' | head -40
			break
		fi
		sleep 1
	done
	wait "$_pid"
	_rc=$(cat "/tmp/l2-$_name.rc" 2>/dev/null)
	if [ -s "/tmp/l2-$_name.qemu" ]; then
		sed "s/^/[L2:$_name qemu] /" "/tmp/l2-$_name.qemu"
	fi
	if grep -q '^PVLOCK-DONE' "/tmp/l2-$_name.log"; then
		pass "l2-$_name-ran" "qemu rc=$_rc"
	else
		fail "l2-$_name-ran" "no end marker (qemu rc=$_rc, 124 = timeout)"
	fi
}

# l2_pids NAME: the QEMU process of L2 NAME (busybox has no pgrep)
l2_pids() {
	ps -o pid,args | awk -v n="-name $1 " 'index($0, "qemu-system") && index($0, n) && !index($0, "timeout") { print $1 }'
}

# dump_l2 NAME: where a stuck L2 is: its vCPUs' registers (QEMU monitor)
# and the L1 kernel stacks of its QEMU threads.
dump_l2() {
	l2_mon "$1" "info registers -a"
	sleep 2
	sed "s/^/[L2:$1 stuck] /" "/tmp/l2-$1.mon.log" | tr -d '\r' |
		grep -E 'CPU#|RIP=|RSP=|EFL=|HLT' | head -40
	for _p in $(l2_pids "$1"); do
		for _t in /proc/$_p/task/*; do
			echo "[L2:$1 stuck] thread $(cat "$_t/comm" 2>/dev/null) ($(basename "$_t")):"
			sed "s/^/[L2:$1 stuck]   /" "$_t/stack" 2>/dev/null | head -12
		done
	done
}

# wait_mark NAME MARK SECONDS: until L2 NAME's console shows "PVLOCK-MARK MARK"
# (on a timeout, dump_l2 says where it is stuck); 1 at once if the L2 has
# ended
# In an L2 started with L2_CTL=1: ctl_open once, then ctl_wait LINE SECONDS
# waits until the L1 sends LINE (l2_say) on ttyS1; 1 on a timeout.
ctl_open() {
	exec 3< /dev/ttyS1
	stty -F /dev/ttyS1 -echo 2>/dev/null
}
ctl_wait() {
	while read -r -t "$2" _l <&3; do
		[ "$_l" = "$1" ] && return 0
	done
	return 1
}

# l2_say NAME TEXT: one line to an L2 started with L2_CTL=1 (its /dev/ttyS1)
l2_say() {
	timeout 5 sh -c "echo \"$2\" > /tmp/l2-$1.ctl.in"
}

wait_mark() {
	_i=0
	while ! grep -q "^PVLOCK-MARK $2\$" "/tmp/l2-$1.log" 2>/dev/null; do
		_i=$((_i + 1))
		# its QEMU has ended (a guest panic: -no-reboot): no mark will come;
		# once more after its last lines have passed the console pipe (up
		# to 20 s for the pipe to end)
		if [ -e "/tmp/l2-$1.rc" ]; then
			_j=0
			while eval "kill -0 \$L2_PID_$1" 2>/dev/null && [ $_j -lt 100 ]; do
				usleep 200000
				_j=$((_j + 1))
			done
			grep -q "^PVLOCK-MARK $2\$" "/tmp/l2-$1.log" 2>/dev/null && return 0
			info "L2 $1 ended (qemu rc=$(cat "/tmp/l2-$1.rc")) before its mark $2"
			return 1
		fi
		if [ $_i -gt $(($3 * 2)) ]; then
			dump_l2 "$1"
			return 1
		fi
		usleep 500000
	done
}
