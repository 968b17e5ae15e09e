#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: fetch a Debian kernel, build pvlock for it, boot an L1 host
# under TCG with kvm_amd + pvlock_host, start an L2 KVM guest with
# pvlock_guest, and show pvlockctl from both levels.
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

kid=${DEMO_KERNEL:-6.12-bookworm}
RESULTS=$PVLOCK_ROOT/build/results/demo.txt
export RESULTS
: > "$RESULTS" 2>/dev/null || { mkdir -p "$(dirname "$RESULTS")"; : > "$RESULTS"; }
t0=$(now)
echo "[demo] 1/3 fetching Debian kernel $kid and building pvlock for it"
prepare_tools
prepare_kernel "$kid"
echo "[demo] 2/3 building the L1 and L2 initramfs images"
l2=$INITRD_DIR/l2-basic-$kid.cpio.gz
l1=$INITRD_DIR/nested-basic-$kid.cpio.gz
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/l2-basic.sh" \
	-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -b "$PVLOCKCTL" || die "L2 initramfs"
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/nested-basic.sh" \
	-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" \
	-f "$KO_HOST=/pvlock/pvlock_host.ko" -b "$PVLOCKCTL" -b /usr/bin/jq || die "L1 initramfs"
echo "[demo] 3/3 booting L1 ($ABI under TCG) which starts an L2 KVM guest"
"$PVLOCK_ROOT/scripts/qemu-run.sh" -v -n "demo-$kid" -k "$kid" -i "$l1" -s 2 -m 4096 -c max -t 300
rc=$?
echo "[demo] done in $(elapsed "$t0")s; console log: build/logs/demo-$kid.log"
exit $rc
