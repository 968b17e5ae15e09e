#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of how scripts/qemu-run.sh judges a console (its -L mode: kept
# consoles instead of QEMU) and of scripts/tally.sh: made-up consoles with
# one defect each, and the verdict each must get. Prints "PASS runner/<case>"
# or "FAIL runner/<case>: why" per case (make check appends them to
# build/results/check.txt); exit 1 if any failed.
. "$(dirname "$0")/../../scripts/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run=$PVLOCK_ROOT/scripts/qemu-run.sh
nfail=0

ok() { echo "PASS runner/$1"; }
ko() { echo "FAIL runner/$1: $2"; nfail=$((nfail + 1)); }

# judge CASE CONSOLE...: qemu-run.sh over the consoles (one per attempt);
# leaves $T/CASE.res (its results) and $T/CASE.rc (its exit status)
judge() {
	local c=$1 a=()
	shift
	for f; do a+=(-L "$f"); done
	RESULTS=$T/$c.res "$run" -n "$c" "${a[@]}" > /dev/null 2> "$T/$c.err"
	echo $? > "$T/$c.rc"
}

# want CASE RC PATTERN...: the exit status, and every extended regular
# expression matched by some line of the results
want() {
	local c=$1 rc=$2 p
	shift 2
	if [ "$(cat "$T/$c.rc")" != "$rc" ]; then
		ko "$c" "exit $(cat "$T/$c.rc"), wanted $rc: $(tr '\n' '|' < "$T/$c.res")"
		return
	fi
	for p; do
		if ! grep -Eq -- "$p" "$T/$c.res"; then
			ko "$c" "no line /$p/ in: $(tr '\n' '|' < "$T/$c.res")"
			return
		fi
	done
	ok "$c"
}

# none CASE PATTERN: no line of the results matches
none() {
	if grep -Eq -- "$2" "$T/$1.res"; then
		ko "$1-not" "a line /$2/: $(grep -E -- "$2" "$T/$1.res" | head -2 | tr '\n' '|')"
	else
		ok "$1-not"
	fi
}

con() {	# con FILE: a console from stdin
	cat > "$T/$1"
	echo "$T/$1"
}

good=$(con good <<'E'
PVLOCK-INIT kernel=6.12 cpus=2 mem=1000kB
PVLOCK-EXPECT 2
PVLOCK-MODULE load pvlock_guest
PVLOCK-RESULT PASS a
PVLOCK-RESULT PASS b: fine
PVLOCK-MODULE unload pvlock_guest
PVLOCK-DONE rc=0 passed=2 failed=0
E
)
judge good "$good"
want good 0 '^PASS good/a$' '^PASS good/b: fine$' '^PASS good/results-count: 2 of 2$' \
	'^PASS good/exit$' '^PASS good/completed' '^PASS good/console$'
none good '^(FAIL|RETRY|NOTE)'

judge short "$(con short <<'E'
PVLOCK-EXPECT 3
PVLOCK-RESULT PASS a
PVLOCK-RESULT PASS b
PVLOCK-DONE rc=0 passed=2 failed=0
E
)"
want short 1 '^FAIL short/results-count: 2 of the 3 results'

judge undeclared "$(con undeclared <<'E'
PVLOCK-RESULT PASS a
PVLOCK-DONE rc=0 passed=1 failed=0
E
)"
want undeclared 1 '^FAIL undeclared/results-count: 1 results, but the payload declared no count'

judge rc "$(con rc <<'E'
PVLOCK-EXPECT 1
PVLOCK-RESULT PASS a
PVLOCK-DONE rc=2 passed=1 failed=0
E
)"
want rc 1 '^FAIL rc/exit: the payload exited with status 2'

judge empty "$(con empty <<'E'
PVLOCK-EXPECT 0
PVLOCK-DONE rc=0 passed=0 failed=0
E
)"
want empty 1 '^FAIL empty/completed: the payload reported no results' '^FAIL empty/console: nothing to vouch for'

judge more "$(con more <<'E'
PVLOCK-EXPECT 1
PVLOCK-RESULT PASS a
PVLOCK-RESULT FAIL b: a failure path's extra line
PVLOCK-DONE rc=0 passed=1 failed=1
E
)"
want more 1 '^NOTE more: 2 results, more than the 1 declared' '^FAIL more/b'

for k in hung list kasan ubsan kmemleak stall; do
	case $k in
	hung) l='INFO: task insmod:123 blocked for more than 60 seconds.' ;;
	list) l='list_del corruption. prev->next should be ffff8881, but was ffff8882' ;;
	kasan) l='BUG: KASAN: slab-use-after-free in pvlock_vm_put+0x1/0x2' ;;
	ubsan) l='UBSAN: array-index-out-of-bounds in host-mod/vm.c:12:3' ;;
	kmemleak) l='kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)' ;;
	stall) l='rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:' ;;
	esac
	judge "scan-$k" "$(con "scan-$k" <<E
PVLOCK-EXPECT 1
PVLOCK-RESULT PASS a
$l
PVLOCK-DONE rc=0 passed=1 failed=0
E
)"
	want "scan-$k" 1 "^FAIL scan-$k/console: "
done

# a report inside a result line is the payload's text, not the kernel's
judge quoted "$(con quoted <<'E'
PVLOCK-EXPECT 1
PVLOCK-RESULT PASS a: dmesg had "BUG: nothing" in it
PVLOCK-DONE rc=0 passed=1 failed=0
E
)"
want quoted 0 '^PASS quoted/console$'

judge l2-short "$(con l2-short <<'E'
PVLOCK-EXPECT 1
[L2:a] PVLOCK-EXPECT 3
[L2:a] PVLOCK-RESULT PASS x
[L2:a] PVLOCK-RESULT PASS y
[L2:a] PVLOCK-DONE rc=0 passed=2 failed=0
PVLOCK-RESULT PASS l2-a-ran: qemu rc=0
PVLOCK-DONE rc=0 passed=1 failed=0
E
)"
want l2-short 1 '^FAIL l2-short/a/results-count: 2 of the 3' '^PASS l2-short/results-count: 1 of 1$' \
	'^PASS l2-short/a/x$'

judge lost "$(con lost <<'E'
PVLOCK-EXPECT 2
PVLOCK-RESULT PASS a
PVLOCK-RESULT F[   12.345678] clocksource: a kernel line cut this one
PVLOCK-DONE rc=0 passed=1 failed=1
E
)"
want lost 1 '^FAIL lost/results-lost: the guest counted 1 failures'

# --- retries -------------------------------------------------------------------
# L2 b triple-faults at boot, before any pvlock module: outside pvlock
boot=$(con boot <<'E'
PVLOCK-EXPECT 3
PVLOCK-MODULE load pvlock_host
PVLOCK-RESULT PASS insmod-host
[L2:a] PVLOCK-EXPECT 1
[L2:a] PVLOCK-MODULE load pvlock_guest
[L2:a] PVLOCK-RESULT PASS insmod
[L2:a] PVLOCK-DONE rc=0 passed=1 failed=0
[L2:b] PVLOCK-INIT kernel=6.12
PVLOCK-RESULT PASS l2-a-ran: qemu rc=0
PVLOCK-RESULT FAIL l2-b-ran: no end marker (qemu rc=0, 124 = timeout)
PVLOCK-DONE rc=0 passed=2 failed=1
E
)
judge retry-boot "$boot" "$good"
want retry-boot 0 '^RETRY retry-boot: attempt 1 \(.* failed\) disturbed by a fault outside pvlock: outside L2 b: exited without its end marker' \
	'^PASS retry-boot/a$'
none retry-boot '^FAIL'

# twice in a row: the second fails the test
judge retry-twice "$boot" "$boot"
want retry-twice 1 '^RETRY retry-twice: attempt 1' '^FAIL retry-twice/retry: attempt 2 disturbed again'

# the same exit after its pvlock_guest was loaded: never retried
judge no-retry-loaded "$(con loaded <<'E'
PVLOCK-EXPECT 2
[L2:b] PVLOCK-EXPECT 2
[L2:b] PVLOCK-MODULE load pvlock_guest
[L2:b] PVLOCK-RESULT PASS insmod
PVLOCK-RESULT PASS l2-a-ran: qemu rc=0
PVLOCK-RESULT FAIL l2-b-ran: no end marker (qemu rc=0, 124 = timeout)
PVLOCK-DONE rc=0 passed=1 failed=1
E
)" "$good"
want no-retry-loaded 1 '^NOTE no-retry-loaded: not run again: inside L2 b: exited without its end marker .*1 pvlock module' \
	'^FAIL no-retry-loaded/l2-b-ran'
none no-retry-loaded '^RETRY'

# an L2 soft lockup after pvlock_guest was unloaded, but with a pvlock frame
judge no-retry-frame "$(con frame <<'E'
PVLOCK-EXPECT 1
[L2:a] PVLOCK-EXPECT 2
[L2:a] PVLOCK-MODULE load pvlock_guest
[L2:a] PVLOCK-MODULE unload pvlock_guest
[L2:a] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:1:40]
[L2:a] Modules linked in: locktorture torture
[L2:a] RIP: 0010:pvlock_wait_early+0x12/0x40
[L2:a] PVLOCK-RESULT PASS x
PVLOCK-RESULT FAIL l2-a-ran: no end marker (qemu rc=124, 124 = timeout)
PVLOCK-DONE rc=0 passed=0 failed=1
E
)" "$good"
want no-retry-frame 1 '^NOTE no-retry-frame: not run again: inside L2 a: watchdog: BUG: soft lockup.*pvlock in its report: RIP: 0010:pvlock_wait_early'
none no-retry-frame '^RETRY'

# the same lockup in a guest that never loaded pvlock and no pvlock frame: retried
judge retry-lockup "$(con lockup <<'E'
PVLOCK-EXPECT 1
PVLOCK-MODULE load pvlock_host
[L2:plain] PVLOCK-EXPECT 2
[L2:plain] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [insmod:90]
[L2:plain] Modules linked in: locktorture torture
[L2:plain] RIP: 0010:smp_call_function_many_cond+0x12/0x40
PVLOCK-RESULT FAIL l2-plain-ran: no end marker (qemu rc=124, 124 = timeout)
PVLOCK-DONE rc=0 passed=0 failed=1
E
)" "$good"
want retry-lockup 0 '^RETRY retry-lockup: .*outside L2 plain: watchdog: BUG: soft lockup'

# the L1's stack corruption with pvlock_host loaded there: never retried
judge no-retry-l1 "$(con l1 <<'E'
PVLOCK-EXPECT 1
PVLOCK-MODULE load pvlock_host
PVLOCK-RESULT PASS insmod-host
Kernel panic - not syncing: corrupted stack end detected inside scheduler
E
)" "$good"
want no-retry-l1 1 '^NOTE no-retry-l1: not run again: inside the L1: Kernel panic.*1 pvlock module' \
	'^FAIL no-retry-l1/completed: no end marker'
none no-retry-l1 '^RETRY'

# --- tally.sh ---------------------------------------------------------------------
cat "$T"/retry-boot.res "$T"/more.res > "$T/tally.in"
out=$("$PVLOCK_ROOT/scripts/tally.sh" -q "$T/tally.in")
trc=$?
np=$(grep -c '^PASS ' "$T/tally.in") nf=$(grep -c '^FAIL ' "$T/tally.in")
if [ "$out" = "$np passed, $nf failed, 1 retried, 1 notes" ] && [ $trc = 1 ]; then
	ok tally-counts
else
	ko tally-counts "rc=$trc: $out (wanted $np passed, $nf failed, 1 retried, 1 notes)"
fi
out=$("$PVLOCK_ROOT/scripts/tally.sh" "$T/retry-boot.res")
if [ $? = 0 ] && echo "$out" | grep -q '^  RETRY retry-boot: attempt 1' &&
	echo "$out" | tail -1 | grep -Eq '^[0-9]+ passed, 0 failed, 1 retried, 0 notes$'; then
	ok tally-lists-retries
else
	ko tally-lists-retries "$(echo "$out" | tr '\n' '|')"
fi

[ $nfail -eq 0 ]
