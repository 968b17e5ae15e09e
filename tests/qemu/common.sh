# SPDX-License-Identifier: GPL-2.0
# Host-side helpers for the QEMU test drivers. Source after scripts/lib.sh.
#
# Which kernels boot, and which runs each gets (PVLOCK_TEST_SET):
#   ci (make test)         6.12-trixie, Debian's stable kernel, gets every run
#                          but the nested basic and attack tests (nested:
#                          host mixed effects target mvm; "basic" is a subset
#                          of "host", and "attack", ~10 min, would take the
#                          run past the CI's time limit);
#                          6.1-bookworm and 7-sid a reduced set: the lock test
#                          on 4 vCPUs (locktorture in every mode, 30 s per
#                          lock type), load/unload under locktorture (10
#                          cycles), and the nested host test (two L2 guests)
#   full (make test-full)  every run on 6.12-trixie, 6.1-bookworm, 7-sid and
#                          6.12-bookworm, nested basic and attack included
# TEST_KERNELS, GUEST_TESTS, NESTED_TESTS, PVLOCK_LT_SECS and PVLOCK_RELOADS
# given by the caller apply to every kernel instead.

PVLOCK_TEST_SET=${PVLOCK_TEST_SET:-ci}
case $PVLOCK_TEST_SET in
ci) TEST_KERNELS=${TEST_KERNELS:-"6.12-trixie 6.1-bookworm 7-sid"} ;;
full) TEST_KERNELS=${TEST_KERNELS:-"6.12-trixie 6.1-bookworm 7-sid 6.12-bookworm"} ;;
*) die "PVLOCK_TEST_SET=$PVLOCK_TEST_SET: ci or full" ;;
esac
PRIMARY_KERNEL=6.12-trixie

# ple_qemu: the nested runs' L1 under a QEMU with AMD's pause filter
# (scripts/build-qemu.sh), so that L1's kvm_amd takes PLE exits and KVM's
# own kvm_vcpu_on_spin runs as on hardware: the stock baseline of the
# benchmarks and the hooks of the tests. PVLOCK_QEMU_PLE=0 keeps Debian's.
ple_qemu() {
	[ "${PVLOCK_QEMU_PLE:-1}" = 1 ] || return 0
	PVLOCK_QEMU_BIN=$("$PVLOCK_ROOT/scripts/build-qemu.sh") || die "building QEMU with the pause filter"
	export PVLOCK_QEMU_BIN
}
INITRD_DIR=$PVLOCK_ROOT/build/initramfs

# The whole run uses the kernels resolved by its first fetch: an apt refresh
# half-way (PVLOCK_APT_MAX_AGE) must not swap a point release in between
# stages or between building the modules and booting.
pin_kernels() {
	export PVLOCK_APT_MAX_AGE=1000000000
}

# plan KID: the runs kernel KID gets, as P_GUEST, P_LOCK_SMPS, P_LT_SECS,
# P_RELOADS, P_NESTED.
plan() {
	local kid=$1 reduced=0
	[ "$PVLOCK_TEST_SET" = ci ] && [ "$kid" != "$PRIMARY_KERNEL" ] && reduced=1
	if [ $reduced = 1 ]; then
		P_GUEST="lock reload" P_LOCK_SMPS=4 P_LT_SECS=30 P_RELOADS=10 P_NESTED=host
	else
		P_GUEST="basic lock reload kvm daemon daemon-bpf daemon-l1"
		P_LOCK_SMPS="2 4" P_LT_SECS=60 P_RELOADS=20 P_NESTED="host mixed effects target mvm"
		[ "$PVLOCK_TEST_SET" = full ] && P_NESTED="basic $P_NESTED attack"
		# the daemon's L1 tests need the host module's VM tracking and the
		# BPF observer, which target 6.12; pvlockd itself is userspace, and
		# the host module's other kernels have their own nested tests
		# (DAEMON_L1_ALL=1 runs them on every kernel)
		if [ "${kid%%-*}" != 6.12 ] && [ -z "${DAEMON_L1_ALL:-}" ]; then
			P_GUEST="basic lock reload kvm daemon"
		fi
	fi
	P_GUEST=${GUEST_TESTS:-$P_GUEST}
	P_NESTED=${NESTED_TESTS:-$P_NESTED}
	P_LT_SECS=${PVLOCK_LT_SECS:-$P_LT_SECS}
	P_RELOADS=${PVLOCK_RELOADS:-$P_RELOADS}
	[ -z "${GUEST_TESTS:-}" ] || P_LOCK_SMPS="2 4"
}

# kstep KID WHAT CMD...: one preparation step for kernel KID; stdout is
# CMD's, its messages show when it ends. If it fails, "FAIL KID/WHAT" with
# the reason (a #error of pvlock's, or the last message) goes to RESULTS and
# the status is 1: the driver goes on with the next kernel. Without RESULTS
# (a benchmark preparing its kernel) a failure stops the script.
kstep() {
	local kid=$1 what=$2 log rc
	shift 2
	log=$(mktemp)
	"$@" 2>"$log"
	rc=$?
	cat "$log" >&2
	if [ $rc -ne 0 ]; then
		[ -n "${RESULTS:-}" ] || die "$kid: $what failed"
		echo "FAIL $kid/$what: $(grep -m1 -o '#error "pvlock.*' "$log" || grep -v '^\s*$' "$log" | tail -1)" >> "$RESULTS"
		msg "$kid: $what failed: no runs on this kernel"
	fi
	rm -f "$log"
	return $rc
}

# prepare_kernel ID: image, modules and locktorture's source fetched, pvlock
# modules built for it (see kstep for a failure).
prepare_kernel() {
	kstep "$1" fetch "$PVLOCK_ROOT/scripts/kernels.sh" fetch -i -s "$1" || return 1
	pin_kernels
	kstep "$1" modules "$PVLOCK_ROOT/scripts/build-modules.sh" "$1" >/dev/null || return 1
	KO_GUEST=$PVLOCK_ROOT/build/kbuild/$1/guest-mod/pvlock_guest.ko
	KO_HOST=$PVLOCK_ROOT/build/kbuild/$1/host-mod/pvlock_host.ko
	# PVLOCK_KO_GUEST_<id>, PVLOCK_KO_HOST_<id> (the kernel id with _ for - and
	# .): other builds to test instead, e.g. a deliberately broken one, to see
	# a check fail
	local alt v
	alt=$(echo "$1" | tr -- '-.' '__')
	for v in GUEST HOST; do
		local n=PVLOCK_KO_${v}_$alt
		[ -n "${!n:-}" ] || continue
		[ -f "${!n}" ] || { msg "$1: $n=${!n}: no such file"; return 1; }
		msg "$1: testing ${!n} ($n) instead of this tree's pvlock_${v,,}.ko"
		printf -v "KO_$v" '%s' "${!n}"
	done
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$1")
	msg "$1: $("$PVLOCK_ROOT/scripts/kernels.sh" describe "$1")"
}

# prepare_locktorture ID: torture.ko and locktorture.ko for that kernel.
prepare_locktorture() {
	kstep "$1" locktorture "$PVLOCK_ROOT/scripts/build-locktorture.sh" "$1" >/dev/null || return 1
	KO_TORTURE=$PVLOCK_ROOT/build/locktorture/$1/torture.ko
	KO_LOCKTORTURE=$PVLOCK_ROOT/build/locktorture/$1/locktorture.ko
}

# testmod KID NAME: tests/qemu/kmod/NAME built for KID; prints the .ko.
testmod() {
	kstep "$1" "$2" "$PVLOCK_ROOT/scripts/build-testmod.sh" "$1" "$2"
}

prepare_tools() {
	ensure_pkgs jq
	make -s -C "$PVLOCK_ROOT/daemon" >/dev/null || die "building the daemon failed"
	make -s -C "$PVLOCK_ROOT/tests/qemu/tools" >/dev/null || die "building the test tools failed"
	PVLOCKCTL=$PVLOCK_ROOT/build/daemon/pvlockctl
	PVLOCK_QUERY=$PVLOCK_ROOT/build/tools/pvlock-query
	PVLOCK_HC_USER=$PVLOCK_ROOT/build/tools/pvlock-hc-user
}

# runs_reset: the runs file of this driver's RESULTS, emptied.
runs_reset() {
	RUNS=${RESULTS%.txt}.runs
	: > "$RUNS"
}

# run_qemu NAME KID [qemu-run.sh options]: one QEMU run (scripts/qemu-run.sh
# -n NAME -k KID ...). Appends "KID NAME passed failed seconds wall booted"
# to $RUNS: seconds the run's own (its last attempt), wall with the wait for
# the machine-wide QEMU lock, booted the kernel the guest said it runs.
run_qemu() {
	local name=$1 kid=$2 t0 rc out line p f s booted wall
	shift 2
	t0=$(now)
	out=$(mktemp)
	"$PVLOCK_ROOT/scripts/qemu-run.sh" -n "$name" -k "$kid" "$@" 2>&1 | tee "$out" >&2
	rc=${PIPESTATUS[0]}
	line=$(sed -nE "s/^\[qemu-run.sh\] $name: ([0-9]+) passed, ([0-9]+) failed(, [0-9]+ retried)? in ([0-9.]+)s$/\1 \2 \4/p" "$out" | tail -1)
	rm -f "$out"
	read -r p f s <<<"$line"
	if [ -z "$s" ]; then	# it stopped before booting: its results, if any, and the wall time
		p=$(grep -c "^PASS $name/" "$RESULTS")
		f=$(grep -c "^FAIL $name/" "$RESULTS")
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 &&
			echo "FAIL $name/ran: scripts/qemu-run.sh exited $rc before booting" >> "$RESULTS"
		s=-
	fi
	booted=$(sed -nE 's/^PVLOCK-INIT kernel=([^ ]+).*/\1/p' \
		"$PVLOCK_ROOT/build/logs/$(echo "$name" | tr '/' '_').log" 2>/dev/null | head -1)
	wall=$(elapsed "$t0")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kid" "$name" "$p" "$f" "$s" "$wall" "${booted:--}" >> "$RUNS"
	msg "$name: ${s}s, ${wall}s with the wait for QEMU"
	return "$rc"
}

# runs_summary RUNS-FILE...: per kernel, what it is exactly (ABI, Debian
# version, compiler of the kernel and of pvlock's modules), each run with
# its "N passed, N failed" and time, and the kernel's totals.
runs_summary() {
	local kid abi desc ko cc kcc
	for kid in $(cat "$@" 2>/dev/null | awk -F'\t' '!seen[$1]++ { print $1 }'); do
		desc=$("$PVLOCK_ROOT/scripts/kernels.sh" describe "$kid" 2>/dev/null) || desc="(not fetched)"
		abi=${desc%%,*}
		ko=$PVLOCK_ROOT/build/kbuild/$kid/guest-mod/pvlock_guest.ko
		cc=$(readelf -p .comment "$ko" 2>/dev/null | sed -nE 's/.*GCC: (.*)$/\1/p' | head -1)
		kcc=$(echo "$desc" | sed -nE 's/.*built with gcc-[0-9]+ (.*)$/\1/p')
		if [ -z "$cc" ]; then
			cc="pvlock: not built"
		elif [ "$cc" = "$kcc" ]; then
			cc="pvlock built with the same gcc"
		else
			cc="pvlock built with GCC $cc"
		fi
		echo "$kid: $desc; $cc"
		cat "$@" | awk -F'\t' -v k="$kid" -v abi="$abi" '
			$1 == k {
				b = ($7 == abi || $7 == "-") ? "" : "  (booted " $7 "!)"
				printf "  %-34s %4d passed, %d failed in %ss (%ss with the wait for QEMU)%s\n", $2, $3, $4, $5, $6, b
				n++; p += $3; f += $4; s += $5; w += $6
			}
			END { printf "  %-34s %4d passed, %d failed in %.1fs (%.1fs with the wait for QEMU)\n", k " (" n " runs)", p, f, s, w }'
	done
}
