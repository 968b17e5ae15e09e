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
# shellcheck disable=SC1090
. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$kid")
[ -f "$VMLINUZ" ] || die "kernel $kid has no image (fetch it with -i)"
ensure_pkgs qemu-system-x86

logdir=$PVLOCK_ROOT/build/logs
mkdir -p "$logdir" "$(dirname "$RESULTS")"
log=$logdir/$(echo "$name" | tr '/' '_').log

args=(-accel tcg,thread=multi -smp "$smp" -m "$mem" -nodefaults -display none
      -serial stdio -no-reboot -kernel "$VMLINUZ" -initrd "$initrd"
      -append "console=ttyS0 panic=-1 quiet loglevel=5 $append")
[ -n "$cpu" ] && args+=(-cpu "$cpu")

t0=$(now)
msg "$name: booting $ABI (-smp $smp -m $mem${cpu:+ -cpu $cpu}, timeout ${to}s), log $log"
if [ "$verbose" = 1 ]; then
	timeout --foreground -k 10 "$to" qemu-system-x86_64 "${args[@]}" "$@" < /dev/null 2>&1 |
		tr -d '\r' | tee "$log" | grep --line-buffered -E '^(\[L2:[^]]*\] )?PVLOCK-(RESULT|INFO|SHOW)|^\[demo\]' |
		sed -u 's/^\(\[L2:[^]]*\] \)\?PVLOCK-SHOW //'
	rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$to" qemu-system-x86_64 "${args[@]}" "$@" < /dev/null 2>&1 | tr -d '\r' > "$log"
	rc=${PIPESTATUS[0]}
fi
secs=$(elapsed "$t0")

fails=0
record() {	# PASS|FAIL test detail
	echo "$1 $name/$2${3:+: $3}" >> "$RESULTS"
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

n_pass=$(grep -c "^PASS $name/" "$RESULTS")
n_fail=$(grep -c "^FAIL $name/" "$RESULTS")
msg "$name: $n_pass passed, $n_fail failed in ${secs}s"
grep "^FAIL $name/" "$RESULTS" | sed 's/^/    /' >&2
exit $((fails > 0))
