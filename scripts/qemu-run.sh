#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a cached Debian kernel under TCG with a test initramfs, always under
# timeout, and turn its console into results.
#
#   qemu-run.sh -n NAME -k KERNEL_ID -i INITRD [-s SMP] [-m MB] [-t SECONDS]
#               [-c CPU] [-a APPEND] [-r RESULTS] [-v] [-- QEMU ARGS]
#   qemu-run.sh -n NAME -L CONSOLE [-L CONSOLE]... [-r RESULTS]
#               (no QEMU: judge kept consoles, one per attempt, as if a run
#               had printed them; for the runner's self-test and for
#               re-reading build/logs/*.log)
#
# Results (appended to RESULTS, default build/results/qemu.txt):
#   NAME/<test> for every "PVLOCK-RESULT PASS|FAIL <test>" line, including
#     those of L2 guests ("[L2:x] PVLOCK-RESULT ..." becomes NAME/x/<test>);
#   NAME/[x/]results-count, NAME/[x/]exit: each guest (the L1 and every L2)
#     reported as many results as its payload declared ("PVLOCK-EXPECT N",
#     pvtest.sh's expect) and its payload exited 0 ("PVLOCK-DONE rc=0");
#   NAME/completed: the guest reached its end marker (no hang, no panic)
#     with results of its own;
#   NAME/console: no BUG, WARNING, Call Trace, Oops, watchdog, panic, hung
#     task, list corruption, KASAN, UBSAN or kmemleak line anywhere in the
#     console, L2 consoles included;
#   "RETRY NAME: ..." for a run repeated after a fault outside pvlock and
#   "NOTE NAME: ..." lines, which scripts/tally.sh counts.
# Exit status 0 only if all of NAME's results passed.
. "$(dirname "$0")/lib.sh"

name= kid= initrd= smp=2 mem=1024 to=300 cpu= append= verbose=0
kept=()
RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/qemu.txt}
while getopts "n:k:i:s:m:t:c:a:r:vL:" o; do
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
	L) kept+=("$(realpath "$OPTARG")") ;;
	*) die "bad option" ;;
	esac
done
shift $((OPTIND - 1))
logdir=$PVLOCK_ROOT/build/logs
mkdir -p "$logdir" "$(dirname "$RESULTS")"
log=$logdir/$(echo "$name" | tr '/' '_').log
if [ ${#kept[@]} -gt 0 ]; then
	[ -n "$name" ] || die "need -n NAME with -L"
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
else
	[ -n "$name" ] && [ -n "$kid" ] && [ -f "$initrd" ] || die "need -n NAME -k KERNEL_ID -i INITRD"
	initrd=$(realpath "$initrd")
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$kid")
	[ -f "$VMLINUZ" ] || die "kernel $kid has no image (fetch it with -i)"
	ensure_pkgs qemu-system-x86
fi

# QEMU itself. Bookworm's 7.2 loses L2 guests and corrupts L1 stacks under
# nested SVM with two L2s, and its multi-threaded TCG races with the
# kernel's int3-based text patching (livepatch transitions on 6.12 oops with
# "int3"); trixie's QEMU 10.0, run from the cached trixie chroot
# (scripts/kernels.sh qemu), does not. PVLOCK_QEMU=host uses the machine's.
qemu=(qemu-system-x86_64)
if [ ${#kept[@]} -eq 0 ] && [ "${PVLOCK_QEMU:-chroot}" = chroot ]; then
	ch=$("$PVLOCK_ROOT/scripts/kernels.sh" qemu) || die "no QEMU chroot"
	qemu=(unshare -m --propagation private "$PVLOCK_ROOT/scripts/in-chroot.sh" "$ch"
	      "$PVLOCK_ROOT" "$PVLOCK_CACHE" -- "${PVLOCK_QEMU_BIN:-qemu-system-x86_64}")
fi

args=(-accel "tcg,thread=${PVLOCK_TCG_THREAD:-multi}" -smp "$smp" -m "$mem" -nodefaults -display none
      -serial stdio -no-reboot -kernel "$VMLINUZ" -initrd "$initrd"
      -append "console=ttyS0 panic=-1 quiet loglevel=5 $append ${PVLOCK_QEMU_APPEND:-}")
[ -n "$cpu" ] && args+=(-cpu "$cpu")
# PVLOCK_QEMU_MON=PATH (debugging): QEMU's human monitor on the unix socket
# PATH, e.g. for "info jit" (translation-cache flushes) while a benchmark
# runs. An absolute path under PVLOCK_ROOT or PVLOCK_CACHE: QEMU runs in the
# chroot, which sees those two at their own paths and has a /tmp of its own
[ -n "${PVLOCK_QEMU_MON:-}" ] && args+=(-monitor "unix:$PVLOCK_QEMU_MON,server,nowait")

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

# PVLOCK_STEAL_LOG=1 (benchmarks): LOG.steal gets each PVLOCK- line of the
# console as it arrives, after "STEAL TOTAL|": this machine's CPU ticks
# stolen by the hypervisor under it (/proc/stat "steal", both CPUs) and all
# its ticks, at that moment; the reports take the share stolen during each
# run. (This build machine is itself a VM: its CPUs lose from 0% to a third
# of their time to its host, changing from one 5-s window to the next; under
# TCG the guests lose that speed and more.)
steal_watch() {	# steal_watch LOG STOPPER-PID
	local line c u n sy i io irq sirq st rest
	stdbuf -oL tail -n +1 -F --pid="$2" -s 0.2 "$1" 2>/dev/null |
	while IFS= read -r line; do
		case $line in *PVLOCK-*) ;; *) continue ;; esac
		read -r c u n sy i io irq sirq st rest < /proc/stat
		echo "$st $((u + n + sy + i + io + irq + sirq + st))|$line"
	done
}

# One QEMU run at a time on this machine (TCG needs every core; two runs
# at once halve each other's speed and trip their timeouts).
if [ ${#kept[@]} -eq 0 ]; then
	exec 9>"${PVLOCK_QEMU_LOCK:-/tmp/pvlock-qemu.lock}"
	flock 9
fi

# --- judging one console ------------------------------------------------------

# Kernel lines that no passing run prints (rcutorture's console-badness.sh
# is the model): oopses, warnings, lockups and stalls, hung tasks (at
# loglevel=5 a hung-task report prints no Call Trace), list corruption, and
# the sanitizers' and kmemleak's reports where a kernel has them.
BAD='BUG:|kernel BUG|WARNING:|Call Trace:|Oops|watchdog: BUG|Kernel panic|general protection fault'
BAD+='|INFO: task .* blocked for more than|list_(add|del) corruption|rcu: INFO: .*detected stall'
BAD+='|UBSAN:|KASAN:|kmemleak:|unreferenced object 0x'

# guests LOG: one line per guest that reported anything, the L1 (or the
# only guest) as "-", each L2 by name:
#   NAME EXPECT PASS FAIL DONE RC TALLY_PASS TALLY_FAIL
# EXPECT: the count its payload declared (-1: none); PASS, FAIL: result
# lines on the console; DONE: 1 if it reached its end marker, whose exit
# status and own tally of results follow.
guests() {
	awk '
	{
		if (match($0, /^\[L2:[^] ]+\] /)) {
			g = substr($0, 5, RLENGTH - 6); t = substr($0, RLENGTH + 1)
		} else {
			g = "-"; t = $0
		}
	}
	t ~ /^PVLOCK-EXPECT [0-9]+$/ { ex[g] += $NF; hasex[g] = 1; seen[g] = 1 }
	t ~ /^PVLOCK-RESULT PASS / { cp[g]++; seen[g] = 1 }
	t ~ /^PVLOCK-RESULT FAIL / { cf[g]++; seen[g] = 1 }
	t ~ /^PVLOCK-DONE rc=-?[0-9]+ passed=[0-9]+ failed=[0-9]+/ {
		split(t, f, /[ =]/)
		done[g] = 1; rc[g] = f[3]; tp[g] = f[5]; tf[g] = f[7]; seen[g] = 1
	}
	END {
		for (g in seen)
			print g, hasex[g] ? ex[g] : -1, cp[g] + 0, cf[g] + 0, done[g] + 0,
			      done[g] ? rc[g] : "-", tp[g] + 0, tf[g] + 0
	}' "$1"
}

# faults LOG: one line per nested-TCG fault signature in the console,
#   outside|inside WHO: SIGNATURE (why)
# "outside" only if the faulting guest had no pvlock module loaded when it
# faulted (pvtest.sh announces each load and unload; the load before it is
# tried) and no line of its fault report (the 150 lines of that guest from
# the signature on; for an L2 that exited without its end marker, its last
# 150) names anything pvlock's. Each signature is also what a pvlock defect
# looks like: an L2 boots with panic=-1, so any panic exits 0; a lost kick
# is a soft lockup. The L1's pvlock_host reaches an L2 only through the
# hypercalls its pvlock_guest makes (and PLE exits, which KVM serves itself
# for a VM that has no pvlock_guest), so the faulting guest's own modules
# are what decides.
faults() {
	awk -v W=150 '
	{
		if (match($0, /^\[L2:[^] ]+\] /)) {
			g = substr($0, 5, RLENGTH - 6); t = substr($0, RLENGTH + 1)
		} else {
			g = "L1"; t = $0
		}
		n[g]++
		L[g, n[g]] = t
		if (t ~ /^PVLOCK-MODULE load [^ ]+$/) {
			if (!((g, $NF) in up)) { up[g, $NF] = 1; c[g]++ }
		} else if (t ~ /^PVLOCK-MODULE unload [^ ]+$/) {
			if ((g, $NF) in up) { delete up[g, $NF]; c[g]-- }
		}
		if (g == "L1" && t ~ /^PVLOCK-RESULT FAIL l2-.*-ran: no end marker \(qemu rc=0[,)]/) {
			x = t
			sub(/^PVLOCK-RESULT FAIL l2-/, "", x)
			sub(/-ran: no end marker.*/, "", x)
			k++; fg[k] = x; fat[k] = 0; fsig[k] = "exited without its end marker (qemu rc=0)"
		} else if (t !~ /^PVLOCK-/ &&
			   ((g != "L1" && t ~ /watchdog: BUG: soft lockup|rcu: INFO: rcu_[a-z]* (self-)?detected stall/) ||
			    t ~ /corrupted stack end detected inside scheduler/)) {
			k++; fg[k] = g; fat[k] = n[g]; fc[k] = c[g] + 0; fsig[k] = t
		}
	}
	END {
		for (i = 1; i <= k; i++) {
			g = fg[i]
			if (fat[i]) {
				a = fat[i]; b = fat[i] + W; m = fc[i]
			} else {
				a = n[g] - W; b = n[g]; m = c[g] + 0
			}
			if (a < 1)
				a = 1
			fr = ""
			for (j = a; j <= b && j <= n[g]; j++) {
				if (L[g, j] !~ /^PVLOCK-/ && L[g, j] ~ /pvlock/) {
					fr = L[g, j]
					break
				}
			}
			who = g == "L1" ? "the L1" : "L2 " g
			if (m > 0)
				print "inside " who ": " fsig[i] " (" m " pvlock module(s) loaded there)"
			else if (fr != "")
				print "inside " who ": " fsig[i] " (pvlock in its report: " fr ")"
			else
				print "outside " who ": " fsig[i] " (no pvlock module loaded there, no pvlock in its report)"
		}
	}' "$1"
}

record() {	# PASS|FAIL test detail: one result of this attempt
	echo "$1 $name/$2${3:+: $3}" >> "$res"
	[ "$1" = PASS ] || fails=$((fails + 1))
}
note() {
	echo "NOTE $name: $*" >> "$res"
}

# evaluate LOG SECS QEMU_RC: this attempt's results into $res, $fails set
evaluate() {
	local line l2 rest st tn det who ex cp cf done drc tp tf n p own=0 bad
	fails=0
	# Results printed by the tests, ours and the L2 guests'.
	while IFS= read -r line; do
		l2=$(echo "$line" | sed -nE 's/^\[L2:([^] ]+)\] .*/\1/p')
		rest=${line#\[L2:*\] }
		st=$(echo "$rest" | awk '{ print $2 }')
		tn=$(echo "$rest" | awk '{ print $3 }' | sed 's/:$//')
		det=$(echo "$rest" | sed -nE 's/^PVLOCK-RESULT (PASS|FAIL) [^:]*: ?//p')
		record "$st" "${l2:+$l2/}$tn" "$det"
	done < <(grep -E '^(\[L2:[^] ]+\] )?PVLOCK-RESULT (PASS|FAIL) ' "$1")

	# Each guest's count of results against what its payload declared, its
	# exit status, and its own tally in the end marker (init.sh): a FAIL
	# line that a kernel message cut on the shared console must not go
	# unnoticed; a cut PASS line is said in a NOTE.
	while read -r who ex cp cf done drc tp tf; do
		if [ "$who" = - ]; then p= l2=; else p="$who/" l2="L2 $who: "; fi
		n=$((cp + cf))
		[ "$done" = 1 ] && [ $((tp + tf)) -gt $n ] && n=$((tp + tf))
		[ "$who" = - ] && own=$n
		if [ "$done" = 1 ] && [ "$tf" -gt "$cf" ]; then
			record FAIL "${p}results-lost" "the guest counted $tf failures, its console shows $cf"
		fi
		if [ "$done" = 1 ] && [ "$tp" -gt "$cp" ]; then
			note "$l2$((tp - cp)) of $tp passed results were cut on the console (the guest counted them)"
		fi
		if [ "$ex" -lt 0 ]; then
			record FAIL "${p}results-count" "$n results, but the payload declared no count (pvtest.sh: expect N)"
		elif [ $n -lt "$ex" ]; then
			record FAIL "${p}results-count" "$n of the $ex results its payload declared: it stopped early"
		else
			record PASS "${p}results-count" "$n of $ex"
			[ $n -gt "$ex" ] && note "$l2$n results, more than the $ex declared (a failure path adds some; else the count is stale)"
		fi
		if [ "$done" = 1 ]; then
			if [ "$drc" = 0 ]; then
				record PASS "${p}exit"
			else
				record FAIL "${p}exit" "the payload exited with status $drc"
			fi
		fi
	done < <(guests "$1")

	# A run without results of its own vouches for nothing.
	if ! grep -q '^PVLOCK-DONE' "$1"; then
		record FAIL completed "no end marker after ${2}s (qemu rc=$3; 124 = timeout)"
	elif [ "$own" -eq 0 ]; then
		record FAIL completed "the payload reported no results"
	else
		record PASS completed "${2}s"
	fi

	bad=$(grep -vE '^(\[L2:[^]]*\] )?PVLOCK-[A-Z0-9-]+( |$)' "$1" | grep -E "$BAD" | head -3 | tr '\n' '|')
	if [ -n "$bad" ]; then
		record FAIL console "$bad"
	elif [ "$own" -eq 0 ]; then
		record FAIL console "nothing to vouch for: the payload reported no results"
	else
		record PASS console
	fi
}

# --- the runs -------------------------------------------------------------------

# Nested SVM under TCG is not reliable (DESIGN.md section 5, README "Known
# quirks"): now and then an L2 guest triple-faults (its QEMU exits 0 without
# output), a vCPU stops answering IPIs (soft lockup in whatever waits for
# it), or L1 reports a corrupted stack. A failed run whose every such fault
# is provably outside pvlock (faults above) is run again, once: a "RETRY"
# line in RESULTS says why and where its console is kept, and the second
# attempt's results count. A second disturbed attempt fails the test, and a
# fault that pvlock may have caused is never retried (a "NOTE" says so).
attempt=1
while :; do
	t0=$(now)
	if [ ${#kept[@]} -gt 0 ]; then
		[ -f "${kept[attempt - 1]:-}" ] || die "attempt $attempt: no console for it (-L)"
		msg "$name: attempt $attempt: console ${kept[attempt - 1]}"
		cp "${kept[attempt - 1]}" "$log"
		rc=0
	else
		msg "$name: booting $ABI (-smp $smp -m $mem${cpu:+ -cpu $cpu}, timeout ${to}s), log $log"
		[ "${PVLOCK_HOST_PIN:-0}" = 1 ] && [ "$smp" -gt 1 ] && host_pin &
		sw= stopper=
		if [ "${PVLOCK_STEAL_LOG:-0}" = 1 ]; then
			: > "$log"
			sleep $((to + 60)) &	# bounded: gone even if this script is killed
			stopper=$!
			steal_watch "$log" "$stopper" > "$log.steal" &
			sw=$!
		fi
		if [ "$verbose" = 1 ]; then
			timeout --foreground -k 10 "$to" "${qemu[@]}" "${args[@]}" "$@" < /dev/null 2>&1 |
				sed -u 's/\r//g' | tee "$log" | grep --line-buffered -E '^(\[L2:[^]]*\] )?PVLOCK-(RESULT|INFO|SHOW)|^\[demo\]' |
				sed -u 's/^\(\[L2:[^]]*\] \)\?PVLOCK-SHOW //'
			rc=${PIPESTATUS[0]}
		else
			# line by line, as the lines come, for the steal watcher
			timeout -k 10 "$to" "${qemu[@]}" "${args[@]}" "$@" < /dev/null 2>&1 | sed -u 's/\r//g' > "$log"
			rc=${PIPESTATUS[0]}
		fi
		if [ -n "$stopper" ]; then
			kill "$stopper" 2>/dev/null
			wait "$sw" 2>/dev/null
		fi
	fi
	secs=$(elapsed "$t0")
	res=$(mktemp)
	evaluate "$log" "$secs" "$rc"

	# keep the console of a failed run next to the latest one
	keep=
	if [ $fails -gt 0 ] && [ ${#kept[@]} -eq 0 ]; then
		keep=${log%.log}.fail-$(date +%Y%m%d-%H%M%S).log
		cp "$log" "$keep"
	fi
	verdicts=
	[ $fails -gt 0 ] && verdicts=$(faults "$log")
	if [ -n "$verdicts" ] && ! echo "$verdicts" | grep -q '^inside'; then
		why=$(echo "$verdicts" | head -1 | cut -c1-300)
		if [ $attempt -eq 1 ]; then
			echo "RETRY $name: attempt 1 ($fails failed) disturbed by a fault outside pvlock: $why${keep:+; console kept in $keep}; running it again" |
				tee -a "$RESULTS" >&2
			rm -f "$res"
			attempt=2
			continue
		fi
		record FAIL retry "attempt 2 disturbed again ($why): a test runs twice at most"
	elif [ -n "$verdicts" ]; then
		note "not run again: $(echo "$verdicts" | grep -m1 '^inside' | cut -c1-300)"
	fi
	cat "$res" >> "$RESULTS"
	rm -f "$res"
	break
done
[ $attempt -gt 1 ] && msg "$name: result of attempt $attempt (the first: the RETRY line in $RESULTS)"
n_pass=$(grep -c "^PASS $name/" "$RESULTS")
n_fail=$(grep -c "^FAIL $name/" "$RESULTS")
msg "$name: $n_pass passed, $n_fail failed, $((attempt - 1)) retried in ${secs}s"
grep "^FAIL $name/" "$RESULTS" | sed 's/^/    /' >&2
exit $((fails > 0))
