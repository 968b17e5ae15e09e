#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested KVM: an L1 under TCG (-cpu max: AMD SVM + NPT) loads kvm, kvm_amd and
# pvlock_host and runs real L2 KVM guests with pvlock_guest.
# Which kernels and which runs on each: see the plan in tests/qemu/common.sh
# (PVLOCK_TEST_SET=ci|full). To choose by hand:
#   TEST_KERNELS="6.12-trixie 7-sid"  kernels (ids of scripts/kernels.list)
#   NESTED_TESTS="basic host mixed effects"   which L1 payloads on every kernel
#     basic    tests/qemu/nested-basic.sh: modules load, status from L1 and L2
#     host     tests/qemu/host-l1.sh: two pvlock guests, counters, unload/reload
#     mixed    tests/qemu/host-mixed-l1.sh: pvlock, plain and hostile guests
#     effects  tests/qemu/effects-l1.sh: eCS judgement, named yield target and
#              budgets, each measured on the host's per-vCPU counters
#     target   tests/qemu/target-l1.sh: whom directed yields reach, one VM of
#              4 vCPUs on one L1 CPU
#     attack   tests/qemu/host-attack-l1.sh: a plain VM next to a hostile one
#              faking critical sections: PLE exits, throughput A/B/A/A
#     mvm      tests/qemu/host-mvm-l1.sh: micro-VMs: memslots, PLE, prio cap,
#              hook cost with 1 and 8 VMs, load order, rmmod racing VM kills
#   PVLOCK_MVM_STEPS="ple%bench"       a subset of mvm's steps
#   PVLOCK_LT_SECS=20                 locktorture seconds per phase in L2
. "$(dirname "$0")/../../scripts/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/test-nested.txt}
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
LT_SECS=${PVLOCK_LT_SECS:-20}
runs_reset
prepare_tools
make -s -C "$PVLOCK_ROOT/tests/qemu/mvm" >/dev/null || die "building pvlock-mvm failed"
PVLOCK_MVM=$PVLOCK_ROOT/build/tools/pvlock-mvm
ple_qemu
rc=0
for kid in $TEST_KERNELS; do
	plan "$kid"
	msg "$kid: nested $P_NESTED"
	prepare_kernel "$kid" && prepare_locktorture "$kid" &&
		KO_HOSTILE=$(testmod "$kid" pvlock_hostile) &&
		KO_CROSS=$(testmod "$kid" pvlock_crossyield) || { rc=1; continue; }
	l2=$INITRD_DIR/nested-l2-$kid.cpio.gz
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/host-l2.sh" \
		-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_HOSTILE=/pvlock/pvlock_hostile.ko" \
		-f "$KO_CROSS=/pvlock/pvlock_crossyield.ko" \
		-f "$KO_TORTURE=/lt/torture.ko" -f "$KO_LOCKTORTURE=/lt/locktorture.ko" \
		-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b "$PVLOCK_HC_USER" -b /usr/bin/jq ||
		die "L2 initramfs"
	for t in $P_NESTED; do
		extra=
		case $t in
		basic) payload=nested-basic.sh l2img=$INITRD_DIR/l2-basic-$kid.cpio.gz
		       "$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2img" \
			       -t "$PVLOCK_ROOT/tests/qemu/l2-basic.sh" \
			       -f "$KO_GUEST=/pvlock/pvlock_guest.ko" -b "$PVLOCKCTL" || die "L2 initramfs"
		       to=300 ;;
		host) payload=host-l1.sh l2img=$l2 to=$((LT_SECS * 4 + 420)) ;;
		mixed) payload=host-mixed-l1.sh l2img=$l2 to=$((LT_SECS * 4 + 480)) ;;
		effects) payload=effects-l1.sh l2img=$INITRD_DIR/effects-l2-$kid.cpio.gz
		       ko=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_effects) || die "pvlock_effects"
		       "$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2img" \
			       -t "$PVLOCK_ROOT/tests/qemu/effects-l2.sh" -f "$KO_GUEST=/pvlock/pvlock_guest.ko" \
			       -f "$ko=/pvlock/pvlock_effects.ko" -b "$PVLOCKCTL" -b "$PVLOCK_QUERY" \
			       -b /usr/bin/jq || die "L2 initramfs"
		       to=600 ;;
		target) payload=target-l1.sh l2img=$INITRD_DIR/target-l2-$kid.cpio.gz
		       KO_BENCH=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_lockbench) ||
			       die "pvlock_lockbench"
		       "$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2img" \
			       -t "$PVLOCK_ROOT/tests/qemu/target-l2.sh" \
			       -f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_BENCH=/bench/pvlock_lockbench.ko" \
			       -b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
		       to=$((LT_SECS + 420)) ;;
		attack) payload=host-attack-l1.sh l2img=$l2 to=$((LT_SECS * 4 + 600)) ;;
		mvm) payload=host-mvm-l1.sh l2img= to=900
		     extra="PVLOCK_KVM_AMD=pause_filter_count_grow=1 slub_debug=F,kmalloc-* kfence.sample_interval=0" ;;
		*) die "unknown nested test '$t'" ;;
		esac
		l1=$INITRD_DIR/nested-$t-$kid.cpio.gz
		# L2 Linux guests need QEMU and their initramfs in the L1; micro-VMs do not
		if [ -n "$l2img" ]; then
			l2args=(-q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2img=/boot/l2.cpio.gz")
		else
			l2args=(-b "$PVLOCK_MVM")
		fi
		"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/$payload" \
			-k "$kid" -m kvm_amd "${l2args[@]}" \
			-f "$KO_HOST=/pvlock/pvlock_host.ko" -b "$PVLOCKCTL" -b "$PVLOCK_QUERY" \
			-b "$PVLOCK_ROOT/build/tools/pvlock-fuzz" -b /usr/bin/jq || die "L1 initramfs"
		run_qemu "nested-$t-$kid" "$kid" -i "$l1" -s 2 -m 4096 -c max -t "$to" \
			-a "PVLOCK_LT_SECS=$LT_SECS $extra ${PVLOCK_MVM_STEPS:+PVLOCK_MVM_STEPS=$PVLOCK_MVM_STEPS}" ||
			rc=1
	done
done
runs_summary "$RUNS" >&2
exit $rc
