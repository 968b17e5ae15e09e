# SPDX-License-Identifier: GPL-2.0
# The daemon's QEMU tests, sourced by tests/qemu/test-guest.sh (after
# prepare_tools, prepare_kernel and prepare_locktorture for the kernel;
# which kernels run which of them: plan in tests/qemu/common.sh):
#
#   daemon      TCG guest: pvlockctl against pvlock_guest, the fuzzer, unload
#               (tests/qemu/daemon-guest.sh)
#   daemon-bpf  L1 under TCG with kvm_amd and no pvlock_host, two L2 KVM
#               guests: the BPF observer through pvlockctl and pvlockd, the
#               metrics endpoint; then pvlock_host loaded under a running
#               pvlockd (reconnect), the fuzzer against it, EPERM for nobody
#               (tests/qemu/daemon-bpf-l1.sh, L2: daemon-l2.sh)
#   daemon-l1   L1 with pvlock_host and pvlockd tuning two L2 guests, one of
#               them pinned (tests/qemu/daemon-l1.sh, L2: daemon-l2.sh).
#
# daemon_test NAME KERNEL_ID: build the initramfs images, run, exit status.

daemon_tools() {
	make -s -C "$PVLOCK_ROOT/daemon" >/dev/null || die "building the daemon failed"
	PVLOCKD=$PVLOCK_ROOT/build/daemon/pvlockd
	PVLOCK_FUZZ=$PVLOCK_ROOT/build/tools/pvlock-fuzz
	PROMCHECK=$PVLOCK_ROOT/build/tools/promcheck
	NOTIFY_LISTEN=$PVLOCK_ROOT/build/tools/notify-listen
	PVLOCK_GENL=$PVLOCK_ROOT/build/tools/pvlock-genl
	[ -x "$PVLOCKD" ] && [ -x "$PVLOCK_FUZZ" ] && [ -x "$PROMCHECK" ] && [ -x "$NOTIFY_LISTEN" ] &&
		[ -x "$PVLOCK_GENL" ] ||
		die "daemon test tools missing"
}

# The L2 image: pvlock_guest, locktorture, pvlockctl and pvlock-query.
daemon_l2_initrd() {	# OUT KID
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$1" -t "$PVLOCK_ROOT/tests/qemu/daemon-l2.sh" \
		-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_TORTURE=/lt/torture.ko" \
		-f "$KO_LOCKTORTURE=/lt/locktorture.ko" \
		-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b /usr/bin/jq || die "L2 initramfs"
}

# An L1 image around PAYLOAD with kvm_amd, QEMU, the L2 image and the daemon.
daemon_l1_initrd() {	# OUT KID PAYLOAD L2
	"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$1" -t "$3" -k "$2" -m kvm_amd -q \
		-f "$VMLINUZ=/boot/vmlinuz" -f "$4=/boot/l2.cpio.gz" \
		-f "$KO_HOST=/pvlock/pvlock_host.ko" \
		-f "$PVLOCK_ROOT/daemon/pvlockd.conf=/etc/pvlock/pvlockd.conf.example" \
		-b "$PVLOCKCTL" -b "$PVLOCKD" -b "$PVLOCK_FUZZ" -b "$PROMCHECK" -b "$PVLOCK_QUERY" \
		-b "$NOTIFY_LISTEN" -b "$PVLOCK_GENL" -b /usr/bin/jq -b /usr/bin/setpriv || die "L1 initramfs"
}

daemon_test() {
	local t=$1 kid=$2 initrd l2 dbg rc=0

	daemon_tools
	case $t in
	daemon)
		initrd=$INITRD_DIR/daemon-guest-$kid.cpio.gz
		"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$initrd" -t "$PVLOCK_ROOT/tests/qemu/daemon-guest.sh" \
			-f "$KO_GUEST=/pvlock/pvlock_guest.ko" -f "$KO_TORTURE=/lt/torture.ko" \
			-f "$KO_LOCKTORTURE=/lt/locktorture.ko" \
			-b "$PVLOCKCTL" -b "$PVLOCK_QUERY" -b "$PVLOCK_FUZZ" -b "$PVLOCK_GENL" \
			-b /usr/bin/jq || die "initramfs"
		# exact counts of the kmalloc caches for the fuzzer's leak check
		# (as for guest-reload in tests/qemu/test-guest.sh)
		run_qemu "daemon-guest-$kid" "$kid" -i "$initrd" -s 2 -t 400 \
			-a "slub_debug=F,kmalloc-* kfence.sample_interval=0" || rc=1
		;;
	daemon-bpf|daemon-l1)
		l2=$INITRD_DIR/daemon-l2-$kid.cpio.gz
		initrd=$INITRD_DIR/$t-l1-$kid.cpio.gz
		daemon_l2_initrd "$l2" "$kid"
		if [ "$t" = daemon-bpf ]; then
			daemon_l1_initrd "$initrd" "$kid" "$PVLOCK_ROOT/tests/qemu/daemon-bpf-l1.sh" "$l2"
		else
			daemon_l1_initrd "$initrd" "$kid" "$PVLOCK_ROOT/tests/qemu/daemon-l1.sh" "$l2"
		fi
		# daemon-l1: exact kmalloc counts for the fuzzer's leak check
		dbg=
		[ "$t" = daemon-l1 ] && dbg="slub_debug=F,kmalloc-* kfence.sample_interval=0"
		run_qemu "$t-$kid" "$kid" -i "$initrd" -s 2 -m 4096 -c max -t 480 -a "$dbg" || rc=1
		;;
	*)
		die "unknown daemon test $t"
		;;
	esac
	return $rc
}
