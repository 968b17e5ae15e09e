#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested KVM: an L1 under TCG (-cpu max: AMD SVM + NPT) loads kvm, kvm_amd and
# pvlock_host and runs real L2 KVM guests with pvlock_guest.
#   NESTED_TESTS="basic host mixed"   which L1 payloads (default: all)
#     basic  tests/qemu/nested-basic.sh: modules load, status from L1 and L2
#     host   tests/qemu/host-l1.sh: two pvlock guests, counters, unload/reload
#     mixed  tests/qemu/host-mixed-l1.sh: pvlock, plain and hostile guests
#     target tests/qemu/target-l1.sh: whom directed yields reach, one VM of
#            4 vCPUs on one L1 CPU
#   PVLOCK_LT_SECS=20                 locktorture seconds per phase in L2
. "$(dirname "$0")/../../scripts/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/test-nested.txt}
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
NESTED_TESTS=${NESTED_TESTS:-basic host mixed}
LT_SECS=${PVLOCK_LT_SECS:-20}
prepare_tools
rc=0
for kid in $TEST_KERNELS; do
	prepare_kernel "$kid"
	prepare_locktorture "$kid"
	KO_HOSTILE=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_hostile) || die "pvlock_hostile"
	KO_CROSS=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_crossyield) ||
		die "pvlock_crossyield"
	l2=$INITRD_DIR/nested-l2-$kid.cpio.gz
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/host-l2.sh" \
		-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_HOSTILE=/pvlock/pvlock_hostile.ko" \
		-f "$KO_CROSS=/pvlock/pvlock_crossyield.ko" \
		-f "$KO_TORTURE=/lt/torture.ko" -f "$KO_LOCKTORTURE=/lt/locktorture.ko" \
		-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b "$PVLOCK_HC_USER" -b /usr/bin/jq ||
		die "L2 initramfs"
	for t in $NESTED_TESTS; do
		case $t in
		basic) payload=nested-basic.sh l2img=$INITRD_DIR/l2-basic-$kid.cpio.gz
		       "$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2img" \
			       -t "$PVLOCK_ROOT/tests/qemu/l2-basic.sh" \
			       -f "$KO_GUEST=/pvlock/pvlock_guest.ko" -b "$PVLOCKCTL" || die "L2 initramfs"
		       to=300 ;;
		host) payload=host-l1.sh l2img=$l2 to=$((LT_SECS * 4 + 420)) ;;
		mixed) payload=host-mixed-l1.sh l2img=$l2 to=$((LT_SECS * 4 + 480)) ;;
		target) payload=target-l1.sh l2img=$INITRD_DIR/target-l2-$kid.cpio.gz
		       KO_BENCH=$("$PVLOCK_ROOT/scripts/build-testmod.sh" "$kid" pvlock_lockbench) ||
			       die "pvlock_lockbench"
		       "$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2img" \
			       -t "$PVLOCK_ROOT/tests/qemu/target-l2.sh" \
			       -f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_BENCH=/bench/pvlock_lockbench.ko" \
			       -b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
		       to=$((LT_SECS + 420)) ;;
		*) die "unknown nested test '$t'" ;;
		esac
		l1=$INITRD_DIR/nested-$t-$kid.cpio.gz
		"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/$payload" \
			-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2img=/boot/l2.cpio.gz" \
			-f "$KO_HOST=/pvlock/pvlock_host.ko" -b "$PVLOCKCTL" -b "$PVLOCK_QUERY" \
			-b /usr/bin/jq || die "L1 initramfs"
		t0=$(now)
		"$PVLOCK_ROOT/scripts/qemu-run.sh" -n "nested-$t-$kid" -k "$kid" -i "$l1" -s 2 -m 4096 \
			-c max -t "$to" -a "PVLOCK_LT_SECS=$LT_SECS" || rc=1
		msg "nested-$t-$kid: $(elapsed "$t0")s"
	done
done
exit $rc
