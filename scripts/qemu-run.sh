#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a cached Debian kernel under TCG with a test initramfs, always under
# timeout, and turn its console into results.
#
#   qemu-run.sh -n NAME -k KERNEL_ID -i INITRD [-s SMP] [-m MB] [-t SECONDS]
#               [-c CPU] [-a APPEND] [-r RESULTS] [-v] [-- QEMU ARGS]
#
# Results (appended to RESULTS, default build/results/qemu.txt):
#   NAME/<test> for every "PVLOCK-RESULT PASS|FAIL <test>" line, including
#     those of L2 guests ("[L2:x] PVLOCK-RESULT ..." becomes NAME/x/<test>);
#   NAME/completed: the guest reached its end marker (no hang, no panic);
#   NAME/console: no BUG, WARNING, Call Trace, Oops, watchdog or panic line
#     anywhere in the console, L2 consoles included.
# Exit status 0 only if all of NAME's results passed.
. "$(dirname "$0")/lib.sh"

name= kid= initrd= smp=2 mem=1024 to=300 cpu= append= verbose=0
RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/qemu.txt}
while getopts "n:k:i:s:m:t:c:a:r:v" o; do
	case $o in
	n) name=$OPTARG ;;
	k) kid=$OPTARG ;;
	i) initrd=$OPTARG ;;
	s) smp=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) to=$OPTARG ;;
	c) cpu=$OPTARG ;;
	a) append=$OPTARG ;;
	r) RESULTS=$OPTARG ;;
	v) verbose=1 ;;
	*) die "bad option" ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$name" ] && [ -n "$kid" ] && [ -f "$initrd" ] || die "need -n NAME -k KERNEL_ID -i INITRD"
initrd=$(realpath "$initrd")
# shellcheck disable=SC1090
. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$kid")
[ -f "$VMLINUZ" ] || die "kernel $kid has no image (fetch it with -i)"
ensure_pkgs qemu-system-x86

logdir=$PVLOCK_ROOT/build/logs
mkdir -p "$logdir" "$(dirname "$RESULTS")"
log=$logdir/$(echo "$name" | tr '/' '_').log

# QEMU itself. Bookworm's 7.2 loses L2 guests and corrupts L1 stacks under
# nested SVM with two L2s, and its multi-threaded TCG races with the
# kernel's int3-based text patching (livepatch transitions on 6.12 oops with
# "int3"); trixie's QEMU 10.0, run from the cached trixie chroot
# (scripts/kernels.sh qemu), does not. PVLOCK_QEMU=host uses the machine's.
qemu=(qemu-system-x86_64)
if [ "${PVLOCK_QEMU:-chroot}" = chroot ]; then
	ch=$("$PVLOCK_ROOT/scripts/kernels.sh" qemu) || die "no QEMU chroot"
	qemu=(unshare -m --propagation private "$PVLOCK_ROOT/scripts/in-chroot.sh" "$ch"
	      "$PVLOCK_ROOT" "$PVLOCK_CACHE" -- "${PVLOCK_QEMU_BIN:-qemu-system-x86_64}")
fi

args=(-accel "tcg,thread=${PVLOCK_TCG_THREAD:-multi}" -smp "$smp" -m "$mem" -nodefaults -display none
      -serial stdio -no-reboot -kernel "$VMLINUZ" -initrd "$initrd"
      -append "console=ttyS0 panic=-1 quiet loglevel=5 $append ${PVLOCK_QEMU_APPEND:-}")
[ -n "$cpu" ] && args+=(-cpu "$cpu")

# PVLOCK_HOST_PIN=1 (benchmarks): the guest's vCPU k >= 1 alone on host CPU
# (k - 1) mod nproc from the moment its thread exists, vCPU 0 and QEMU's
# other threads wherever the host puts them; so that the vCPUs a benchmark
# measures on do not move between host CPUs from one run to the next.
host_pin() {
	local i t k n=0
	for i in $(seq 240); do
		sleep 0.5
		n=0
		for t in /proc/[0-9]*/task/[0-9]*; do
			k=$(sed -nE 's|^CPU ([0-9]+)/TCG$|\1|p' "$t/comm" 2>/dev/null)
			[ -n "$k" ] && [ "$k" -ge 1 ] || continue
			taskset -p -c $(((k - 1) % $(nproc))) "${t##*/}" > /dev/null 2>&1 && n=$((n + 1))
		done
		[ "$n" -ge $((smp - 1)) ] && break
	done
	msg "$name: host-pinned $n vCPU threads (vCPU k >= 1 on host CPU (k - 1) mod $(nproc))"
}
if [ "${PVLOCK_HOST_PIN:-0}" = 1 ]; then
	args+=(-name "pvlock,debug-threads=on")
fi

# One QEMU run at a time on this machine (TCG needs every core; two runs
# at once halve each other's speed and trip their timeouts).
exec 9>"${PVLOCK_QEMU_LOCK:-/tmp/pvlock-qemu.lock}"
flock 9

# Nested SVM under TCG is not reliable (DESIGN.md section 5, README "Known
# quirks"): now and then an L2 guest triple-faults (its QEMU exits 0 without
# output), a vCPU stops answering IPIs (soft lockup in whatever waits for
# it), or L1 reports a corrupted stack. A run whose console shows one of
# these signatures is run again, up to PVLOCK_QEMU_ATTEMPTS times (default
# 3); each disturbed attempt is recorded as a NOTE line in RESULTS with its
# signature and kept console, and only the last attempt's results count.
# A defect that shows every time still fails.
env_fault() {	# log: print the first nested-TCG fault signature, if any
	grep -m1 -E 'PVLOCK-RESULT FAIL l2-[^ ]*-ran: no end marker \(qemu rc=0|\[L2:[^]]*\] .*(watchdog: BUG: soft lockup|rcu: INFO: rcu_[a-z]* (self-)?detected stall)|corrupted stack end detected inside scheduler' "$1"
}

attempts=${PVLOCK_QEMU_ATTEMPTS:-3}
attempt=1
while :; do
	t0=$(now)
	msg "$name: booting $ABI (-smp $smp -m $mem${cpu:+ -cpu $cpu}, timeout ${to}s), log $log"
	[ "${PVLOCK_HOST_PIN:-0}" = 1 ] && [ "$smp" -gt 1 ] && host_pin &
	if [ "$verbose" = 1 ]; then
		timeout --foreground -k 10 "$to" "${qemu[@]}" "${args[@]}" "$@" < /dev/null 2>&1 |
			sed -u 's/\r//g' | tee "$log" | grep --line-buffered -E '^(\[L2:[^]]*\] )?PVLOCK-(RESULT|INFO|SHOW)|^\[demo\]' |
			sed -u 's/^\(\[L2:[^]]*\] \)\?PVLOCK-SHOW //'
		rc=${PIPESTATUS[0]}
	else
		timeout -k 10 "$to" "${qemu[@]}" "${args[@]}" "$@" < /dev/null 2>&1 | tr -d '\r' > "$log"
		rc=${PIPESTATUS[0]}
	fi
	secs=$(elapsed "$t0")

	fails=0
	res=$(mktemp)
	record() {	# PASS|FAIL test detail
		echo "$1 $name/$2${3:+: $3}" >> "$res"
		[ "$1" = PASS ] || fails=$((fails + 1))
	}

	# Results printed by the tests, ours and the L2 guests'.
	while IFS= read -r line; do
		l2=$(echo "$line" | sed -nE 's/^\[L2:([^] ]+)\] .*/\1/p')
		rest=${line#\[L2:*\] }
		st=$(echo "$rest" | awk '{ print $2 }')
		tn=$(echo "$rest" | awk '{ print $3 }' | sed 's/:$//')
		det=$(echo "$rest" | sed -nE 's/^PVLOCK-RESULT (PASS|FAIL) [^:]*: ?//p')
		record "$st" "${l2:+$l2/}$tn" "$det"
	done < <(grep -E '^(\[L2:[^] ]+\] )?PVLOCK-RESULT (PASS|FAIL) ' "$log")

	# Each guest's end marker carries its tally of results (init.sh; an L1's
	# L2s' markers come "[L2:NAME] "-prefixed): a FAIL line that a kernel
	# message cut on the shared console must not go unnoticed; a cut PASS
	# line is said in a NOTE.
	while read -r who p f; do
		if [ "$who" = - ]; then pfx= l2=; else pfx="[L2:$who] " l2=$who; fi
		sp=$(awk -v s="${pfx}PVLOCK-RESULT PASS " 'index($0, s) == 1' "$log" | wc -l)
		sf=$(awk -v s="${pfx}PVLOCK-RESULT FAIL " 'index($0, s) == 1' "$log" | wc -l)
		if [ "$f" -gt "$sf" ]; then
			record FAIL "${l2:+$l2/}results-lost" "the guest counted $f failures, its console shows $sf"
		fi
		if [ "$p" -gt "$sp" ]; then
			echo "NOTE $name: ${l2:+L2 $l2: }$((p - sp)) of $p passed results were cut on the console (the guest counted them)" >> "$res"
		fi
	done < <(sed -nE 's/^(\[L2:([^] ]+)\] )?PVLOCK-DONE rc=[0-9-]+ passed=([0-9]+) failed=([0-9]+).*/\2 \3 \4/p' "$log" |
		awk '{ k = NF == 3 ? $1 : "-"; a[k] += $(NF - 1); b[k] += $NF } END { for (k in a) print k, a[k], b[k] }')
	if grep -q '^PVLOCK-DONE' "$log"; then
		record PASS completed "${secs}s"
	else
		record FAIL completed "no end marker after ${secs}s (qemu rc=$rc; 124 = timeout)"
	fi

	bad=$(grep -vE '^(\[L2:[^]]*\] )?PVLOCK-(RESULT|INFO|SHOW)' "$log" |
		grep -E 'BUG:|kernel BUG|WARNING:|Call Trace:|Oops|watchdog: BUG|Kernel panic|general protection fault' |
		head -3 | tr '\n' '|')
	if [ -z "$bad" ]; then
		record PASS console
	else
		record FAIL console "$bad"
	fi

	# keep the console of a failed run next to the latest one
	if [ $fails -gt 0 ]; then
		cp "$log" "${log%.log}.fail-$(date +%Y%m%d-%H%M%S).log"
	fi

	if [ $fails -gt 0 ] && [ $attempt -lt "$attempts" ] && sig=$(env_fault "$log"); then
		kept=$(ls -t "${log%.log}".fail-*.log | head -1)
		echo "NOTE $name: attempt $attempt of $attempts disturbed by a nested-TCG fault ($fails failed): $(echo "$sig" | cut -c1-200); console kept in $kept; running again" |
			tee -a "$RESULTS" >&2
		rm -f "$res"
		attempt=$((attempt + 1))
		continue
	fi
	cat "$res" >> "$RESULTS"
	rm -f "$res"
	break
done
[ $attempt -gt 1 ] && msg "$name: result of attempt $attempt (earlier ones: NOTE lines in $RESULTS)"
n_pass=$(grep -c "^PASS $name/" "$RESULTS")
n_fail=$(grep -c "^FAIL $name/" "$RESULTS")
msg "$name: $n_pass passed, $n_fail failed in ${secs}s"
grep "^FAIL $name/" "$RESULTS" | sed 's/^/    /' >&2
exit $((fails > 0))
