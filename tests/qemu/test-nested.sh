#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested KVM: an L1 under TCG (-cpu max: AMD SVM + NPT) loads kvm, kvm_amd and
# pvlock_host and runs real L2 KVM guests with pvlock_guest.
. "$(dirname "$0")/../../scripts/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/test-nested.txt}
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
prepare_tools
rc=0
for kid in $TEST_KERNELS; do
	t0=$(now)
	prepare_kernel "$kid"
	l2=$INITRD_DIR/l2-basic-$kid.cpio.gz
	l1=$INITRD_DIR/nested-basic-$kid.cpio.gz
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/l2-basic.sh" \
		-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -b "$PVLOCKCTL" || die "L2 initramfs"
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/nested-basic.sh" \
		-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" \
		-f "$KO_HOST=/pvlock/pvlock_host.ko" -b "$PVLOCKCTL" -b /usr/bin/jq || die "L1 initramfs"
	"$PVLOCK_ROOT/scripts/qemu-run.sh" -n "nested-basic-$kid" -k "$kid" -i "$l1" -s 2 -m 4096 \
		-c max -t 300 || rc=1
	msg "nested-basic-$kid: stage took $(elapsed "$t0")s"
done
exit $rc
