#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TCG guests on each test kernel: tests/qemu/guest-*.sh with the modules and
# tools of this tree. Which kernels and which runs on each: see the plan in
# tests/qemu/common.sh (PVLOCK_TEST_SET=ci|full). To choose by hand:
#   TEST_KERNELS="6.12-trixie 7-sid"  kernels (ids of scripts/kernels.list)
#   GUEST_TESTS="basic lock reload kvm" which payloads on every kernel; "kvm"
#                                     runs L2 KVM guests in a TCG L1 without
#                                     pvlock_host; daemon, daemon-bpf,
#                                     daemon-l1: see tests/qemu/daemon-run.sh
#   PVLOCK_LT_SECS=60                 locktorture seconds per lock type
#   PVLOCK_RELOADS=20                 load/unload cycles
. "$(dirname "$0")/../../scripts/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"
. "$PVLOCK_ROOT/tests/qemu/daemon-run.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/test-guest.txt}
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
runs_reset
prepare_tools
rc=0
for kid in $TEST_KERNELS; do
	plan "$kid"
	msg "$kid: ${P_GUEST} (lock on -smp ${P_LOCK_SMPS// /,}, locktorture ${P_LT_SECS}s, ${P_RELOADS} reloads)"
	prepare_kernel "$kid" && prepare_locktorture "$kid" &&
		KO_KLP_REPLACE=$(testmod "$kid" klp_replace) || { rc=1; continue; }
	for t in $P_GUEST; do
		case $t in daemon*) daemon_test "$t" "$kid" || rc=1; continue ;; esac
		if [ "$t" = kvm ]; then
			l2=$INITRD_DIR/guestkvm-l2-$kid.cpio.gz
			l1=$INITRD_DIR/guestkvm-l1-$kid.cpio.gz
			"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/guestkvm-l2.sh" \
				-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_TORTURE=/lt/torture.ko" \
				-f "$KO_LOCKTORTURE=/lt/locktorture.ko" \
				-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
			"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/guestkvm-l1.sh" \
				-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" \
				|| die "L1 initramfs"
			run_qemu "guest-kvm-$kid" "$kid" -i "$l1" -s 3 -m 4096 -c max -t 420 \
				-a "PVLOCK_LT_SECS=$((P_LT_SECS * 3 / 4)) PVLOCK_L2_APPEND=PVLOCK_LT_SECS=$((P_LT_SECS * 3 / 4))" || rc=1
			continue
		fi
		case $t in
		lock) smps=$P_LOCK_SMPS ;;
		*) smps=2 ;;
		esac
		initrd=$INITRD_DIR/guest-$t-$kid.cpio.gz
		"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$initrd" -t "$PVLOCK_ROOT/tests/qemu/guest-$t.sh" \
			-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_HOST=/pvlock/pvlock_host.ko" \
			-f "$KO_TORTURE=/lt/torture.ko" -f "$KO_LOCKTORTURE=/lt/locktorture.ko" \
			-f "$KO_KLP_REPLACE=/pvlock/klp_replace.ko" \
			-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "initramfs"
		for smp in $smps; do
			# livepatch transitions rewrite hot kernel text with int3
			# breakpoints; multi-threaded TCG occasionally executes a
			# stale int3 afterwards ("Oops: int3", also with an unrelated
			# livepatch, with QEMU 7.2 and 10.0): the reload test, which
			# livepatches under load, uses single-threaded TCG. The lock
			# test needs real parallelism (one vCPU at a time never
			# queues) and livepatches only while the guest is idle.
			PVLOCK_TCG_THREAD=multi
			[ "$t" = reload ] && PVLOCK_TCG_THREAD=single
			# reload: SLUB's checks on the kmalloc caches, which also keep
			# no per-CPU slabs there, and no KFENCE (its objects are in no
			# slab), so /proc/slabinfo counts the objects in use exactly
			# (tests/qemu/guest-reload.sh's leak check); U records each
			# object's allocation site, so that kmem (lib/pvtest.sh) can
			# leave out SLUB's own sheaves (7.x)
			dbg=
			[ "$t" = reload ] && dbg="slub_debug=FU,kmalloc-* kfence.sample_interval=0"
			PVLOCK_TCG_THREAD=$PVLOCK_TCG_THREAD run_qemu "guest-$t-$kid-smp$smp" "$kid" \
				-i "$initrd" -s "$smp" -t $((P_LT_SECS * 2 + P_RELOADS * 15 + 240)) \
				-a "PVLOCK_LT_SECS=$P_LT_SECS PVLOCK_RELOADS=$P_RELOADS $dbg" || rc=1
		done
	done
done
runs_summary "$RUNS" >&2
exit $rc
