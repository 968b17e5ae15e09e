#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TCG guests on each test kernel: tests/qemu/guest-*.sh with the modules and
# tools of this tree.
. "$(dirname "$0")/../../scripts/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/test-guest.txt}
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
prepare_tools
rc=0
for kid in $TEST_KERNELS; do
	t0=$(now)
	prepare_kernel "$kid"
	initrd=$INITRD_DIR/guest-basic-$kid.cpio.gz
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$initrd" -t "$PVLOCK_ROOT/tests/qemu/guest-basic.sh" \
		-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_HOST=/pvlock/pvlock_host.ko" \
		-b "$PVLOCKCTL" -b /usr/bin/jq || die "initramfs"
	"$PVLOCK_ROOT/scripts/qemu-run.sh" -n "guest-basic-$kid" -k "$kid" -i "$initrd" -s 2 -t 180 || rc=1
	msg "guest-basic-$kid: stage ${kid} took $(elapsed "$t0")s"
done
exit $rc
